import { decodePayload } from '../alert/index.ts';
import { openNightReader } from '../archive/index.ts';
import { ZadsError, toZadsError } from '../errors.ts';
import { retry } from '../retry.ts';
import { ConsumeLoop, TransactionalProducer, createKafka, ensureTopic, kafkaAuthorizationError, kafkaError, nightTopicName } from '../kafka/index.ts';
import type { Admin, Consumer, InputBatch, KafkaClient } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { counter, createMetricsRegistry } from '../metrics.ts';
import { checkpointGroup, checkpointOffsets, readCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { ReplayMeasure } from './measure.ts';
import type { ReplayReport } from './measure.ts';
import { resolveReplayOptions } from './options.ts';
import type { Pacing, ReplayOptions, ResolvedReplayOptions } from './options.ts';
import { Pacer } from './pacer.ts';
import { archivedItems, handOffPositions } from './source.ts';
import { checkReplayTarget } from './target-policy.ts';
import { ReplayFilterCounts, archivedAlerts, filteredAlerts } from './filtered-source.ts';

interface Outgoing {
  key: string | Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
  dueMs: number;
  live: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Re-publishes an archived night (or a time window or some objects of it) to a Kafka topic at a chosen
 * pace, and optionally goes on with the live topic from where the archive ends. Every transaction holds
 * a batch of messages and the replay's checkpoint, so a replay killed at any moment resumes with the same
 * id with no gap and no duplicate in the target (for read-committed consumers).
 */
export class Replay {
  readonly id: string;
  readonly topic: string;
  readonly #o: ResolvedReplayOptions;
  readonly #pacing: Pacing;
  readonly #log: Logger | undefined;
  readonly #kafka: KafkaClient;
  readonly #admin: Admin;
  readonly #producer: TransactionalProducer;
  /** On the target, in the replay's checkpoint group, never subscribed: each transaction commits the checkpoint for it. */
  readonly #checkpointConsumer: Consumer;
  readonly #measure = new ReplayMeasure();
  readonly #sentCounter;
  #cp: Checkpoint = { sent: 0, phase: 'archive', cursor: null, handOff: null, live: null };
  #sentBefore = 0;
  #state: ReplayReport['state'] = 'running';
  #error: string | undefined;
  /** The code of the error that failed the replay (KAFKA_AUTH, KAFKA_TLS, …), kept in the one it throws. */
  #errorCode: ZadsError['code'] = 'INTERNAL';
  #paused: { promise: Promise<void>; resume: () => void } | undefined;
  #cancelled = false;
  #live: ConsumeLoop | undefined;
  #run: Promise<ReplayReport> | undefined;
  readonly #filter: ReplayFilterCounts | undefined;

  constructor(options: ReplayOptions) {
    this.#o = resolveReplayOptions(options);
    this.id = this.#o.id;
    this.#pacing = this.#o.pacing;
    this.topic = this.#o.topic;
    checkReplayTarget(this.topic, this.#o.allowProtectedTopic); // target policy, defence in depth: before any Kafka client
    this.#log = options.logger?.child({ component: 'replay', replay: this.id });
    this.#filter = options.filter ? new ReplayFilterCounts(options.filter) : undefined;
    this.#kafka = createKafka(options.target, options.logger, `replay-${this.id}`);
    this.#admin = this.#kafka.admin();
    // One transactional id per replay id: a resumed replay fences the one it replaces.
    this.#producer = new TransactionalProducer({ kafka: this.#kafka, transactionalId: `zads-replay-${this.id}`, who: `replay ${this.id}`, logger: this.#log });
    this.#checkpointConsumer = this.#kafka.consumer({ groupId: checkpointGroup(this.id) });
    const registry = options.metrics ?? createMetricsRegistry();
    this.#sentCounter = counter(registry, 'zads_replay_alerts_total', 'Alerts re-published by replays', ['replay']);
  }

  /** Runs the replay to its end (or cancel); resolves with the final report. Calling it again returns the same run. */
  run(): Promise<ReplayReport> {
    this.#run ??= this.#execute();
    return this.#run;
  }

  status(): ReplayReport {
    const report = this.#measure.report({ id: this.id, topic: this.topic, state: this.#state, requestedRate: this.#requestedRate(), error: this.#error, sentBefore: this.#sentBefore });
    return this.#filter ? { ...report, filter: this.#filter.report() } : report;
  }

  pause(): void {
    if (this.#state !== 'running' || this.#paused) return;
    let resume = () => undefined as void;
    const promise = new Promise<void>((r) => (resume = r));
    this.#paused = { promise, resume };
    this.#state = 'paused';
  }

  resume(): void {
    if (!this.#paused) return;
    const p = this.#paused;
    this.#paused = undefined;
    this.#state = 'running';
    p.resume();
  }

  /** Stops after the transaction in flight; the checkpoint stays, so the same id can resume later. */
  cancel(): void {
    this.#cancelled = true;
    this.resume();
  }

  #requestedRate(): number | null {
    return this.#pacing.mode === 'rate' ? this.#pacing.alertsPerSec : null;
  }

  #reachedMax(): boolean {
    return this.#o.maxAlerts !== undefined && this.#cp.sent >= this.#o.maxAlerts;
  }

  async #execute(): Promise<ReplayReport> {
    try {
      try {
        await Promise.all([this.#admin.connect(), this.#checkpointConsumer.connect()]);
      } catch (err) {
        throw kafkaError(err, { cluster: this.#o.target, doing: 'connect', who: `replay ${this.id}` });
      }
      await this.#producer.ready();
      await ensureTopic(this.#kafka, { topic: this.topic, partitions: this.#o.partitions });
      const saved = await readCheckpoint(this.#admin, this.#checkpointConsumer, this.id, this.topic);
      if (saved) {
        this.#cp = saved;
        this.#sentBefore = saved.sent;
        this.#log?.info({ checkpoint: saved }, 'resuming from checkpoint');
      }
      if (this.#cp.phase === 'done') {
        this.#state = 'done';
        return this.status();
      }
      if (this.#o.thenLive && this.#cp.handOff === null) {
        this.#cp.handOff = Object.fromEntries([...handOffPositions(this.#o.archive, this.#o.selection)].map(([p, o]) => [String(p), o.toString()]));
      }
      this.#measure.start();
      const pacer = new Pacer(this.#pacing, Date.now());
      let index = 0;
      if (this.#cp.phase === 'archive') {
        index = await this.#replayArchive(pacer);
        if (!this.#cancelled && !this.#reachedMax()) this.#cp.phase = this.#o.thenLive ? 'live' : 'done';
      }
      if (this.#cp.phase === 'live' && !this.#cancelled && !this.#reachedMax()) await this.#replayLive(pacer, index);
      if (this.#reachedMax()) this.#cp.phase = 'done';
      await this.#flush([]);
      this.#state = this.#cancelled ? 'cancelled' : 'done';
    } catch (err) {
      // A broker's ACL refusal (either Kafka client) becomes KAFKA_NOT_AUTHORIZED, never a silent or vague failure.
      const e = toZadsError(kafkaAuthorizationError(err, { topic: this.topic, user: this.#o.target.sasl?.username, brokers: this.#o.target.brokers }) ?? err);
      this.#state = 'failed';
      this.#error = e.message;
      this.#errorCode = e.code;
      this.#log?.error({ err: e }, 'replay failed');
    } finally {
      for (const step of [() => this.#live?.close(), () => this.#producer.close(), () => this.#checkpointConsumer.disconnect(), () => this.#admin.disconnect()]) {
        await Promise.resolve()
          .then(step)
          .catch(() => undefined);
      }
    }
    const report = this.status();
    if (report.state === 'failed') throw new ZadsError(this.#errorCode, `replay ${this.id} failed: ${report.error}`, { context: { replay: this.id } });
    return report;
  }

  async #gate(): Promise<void> {
    while (this.#paused) await this.#paused.promise;
  }

  async #replayArchive(pacer: Pacer): Promise<number> {
    const { archive, selection } = this.#o;
    const handOff = this.#cp.handOff ? new Map(Object.entries(this.#cp.handOff).map(([p, o]) => [Number(p), BigInt(o)])) : undefined;
    const { maxBatchAlerts: maxAlerts, maxBatchBytes: maxBytes } = this.#o;
    let batch: Outgoing[] = [];
    let batchBytes = 0;
    let index = 0;
    let cursor = this.#cp.cursor;
    // Local segments while the night has a local copy, S3 range reads once it is pruned to S3.
    const reader = await openNightReader(archive, { night: selection.night, programid: selection.programid });
    try {
      const items = archivedItems(archive, selection, this.#cp.cursor ?? undefined, handOff);
      const all = archivedAlerts(items, (item) => reader.alertBytes(item));
      for await (const { item, value } of this.#filter ? filteredAlerts(all, this.#filter) : all) {
        await this.#gate();
        if (this.#cancelled || this.#cp.sent + batch.length >= (this.#o.maxAlerts ?? Infinity)) break;
        const dueMs = pacer.dueAt(index, item.jd, item.arrivalMs);
        const wait = dueMs - Date.now();
        if (wait > 0) {
          if (batch.length > 0) {
            await this.#flush(batch, { cursor });
            batch = [];
            batchBytes = 0;
          }
          const left = dueMs - Date.now();
          if (left > 0) await sleep(left);
        }
        batch.push({
          key: item.objectId,
          value,
          dueMs,
          live: false,
          headers: {
            'zads-replay-id': this.id,
            'zads-source-night': selection.night,
            'zads-source-topic': item.topic ?? '',
            'zads-source-partition': item.partition === null ? '' : String(item.partition),
            'zads-source-offset': item.kafkaOffset === null ? '' : item.kafkaOffset.toString(),
            'zads-candid': item.candid.toString(),
          },
        });
        batchBytes += value.length;
        cursor = { arrivalMs: item.arrivalMs, candid: item.candid.toString() };
        index++;
        if (batch.length >= maxAlerts || batchBytes >= maxBytes) {
          await this.#flush(batch, { cursor });
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) await this.#flush(batch, { cursor });
    } finally {
      await reader.close();
    }
    return index;
  }

  /**
   * The live part: the night's topic on the live cluster from the hand-off positions (or the checkpoint's),
   * through the project's consume loop — every fetch of every partition, paced like the archived alerts,
   * each batch one transaction with the checkpoint. Ends on cancel, maxAlerts, or `idleStopMs` with nothing new.
   */
  async #replayLive(pacer: Pacer, startIndex: number): Promise<void> {
    const live = this.#o.thenLive!;
    const { night, programid } = this.#o.selection;
    const topic = nightTopicName(night, programid);
    const next = new Map<number, bigint>();
    for (const [p, o] of Object.entries(this.#cp.handOff ?? {})) next.set(Number(p), BigInt(o));
    for (const [p, o] of Object.entries(this.#cp.live ?? {})) next.set(Number(p), BigInt(o));
    let index = startIndex;
    let lastActivity = Date.now();
    let failure: ZadsError | undefined;
    const loop = new ConsumeLoop({
      kafka: createKafka(live.liveCluster, this.#o.logger, `replay-${this.id}-live`),
      groupId: `zads-replay-live-${this.id}`,
      topics: new RegExp(`^${topic}$`),
      discoveryIntervalMs: 1000,
      maxFetchBytesPerPartition: 8 * 1024 * 1024,
      who: `replay ${this.id} (live part)`,
      logger: this.#log,
      // A pause may last: the consumer must stay in its group however long a batch waits (librdkafka's
      // background thread heartbeats; this is the limit between two polls: 12 h, which the client doubles
      // internally, to librdkafka's cap of 24 h).
      rdkafka: { 'max.poll.interval.ms': 43_200_000 },
      sink: {
        positions: async (partitions) => new Map(partitions.map((p) => [`${p.topic}\u0000${p.partition}`, next.get(p.partition) ?? 0n])),
        write: async (batch: InputBatch, isRunning: () => boolean) => {
          const start = next.get(batch.partition) ?? 0n;
          let done = 0;
          let out: Outgoing[] = [];
          const send = async () => {
            if (out.length === 0) return;
            this.#cp.live = Object.fromEntries([...next].map(([k, v]) => [String(k), v.toString()]));
            await this.#flush(out, {});
            out = [];
            lastActivity = Date.now();
          };
          for (const m of batch.messages) {
            if (!isRunning() || this.#cancelled) break;
            const offset = BigInt(m.offset);
            if (offset < start) {
              done++;
              continue;
            }
            if (this.#cp.sent + out.length >= (this.#o.maxAlerts ?? Infinity)) break;
            if (this.#paused) {
              await send();
              await this.#gate();
              if (this.#cancelled) break;
            }
            const value = m.value ?? Buffer.alloc(0);
            if (this.#filter && !(await this.#filter.passes(value, { topic, partition: batch.partition, offset: m.offset }))) {
              next.set(batch.partition, offset + 1n);
              done++;
              continue;
            }
            const candid = await decodePayload(value).then((d) => d[0]?.alert.candid.toString() ?? '', () => '');
            const dueMs = pacer.dueAt(index++, 0, Number(m.timestamp));
            if (dueMs - Date.now() > 0) {
              await send();
              const left = dueMs - Date.now();
              if (left > 0) await sleep(left);
            }
            out.push({
              key: m.key,
              value,
              dueMs,
              live: true,
              headers: {
                'zads-replay-id': this.id,
                'zads-source-night': night,
                'zads-source-topic': topic,
                'zads-source-partition': String(batch.partition),
                'zads-source-offset': m.offset,
                'zads-candid': candid,
              },
            });
            next.set(batch.partition, offset + 1n);
            done++;
          }
          await send();
          lastActivity = Date.now();
          return done;
        },
      },
    });
    this.#live = loop;
    loop.onFailure((err) => (failure = err));
    await loop.start();
    try {
      for (;;) {
        await sleep(100);
        if (failure) throw failure;
        if (this.#cancelled || this.#reachedMax()) break;
        if (this.#paused) lastActivity = Date.now();
        if (live.idleStopMs !== undefined && Date.now() - lastActivity > live.idleStopMs) break;
      }
    } finally {
      this.#live = undefined;
      await loop.close();
    }
  }

  /**
   * One transaction: the messages and the checkpoint after them. A failed one is tried again (the producer
   * has been replaced or the transaction aborted); when its commit landed although the answer was lost, the
   * checkpoint read back says so and it is not sent twice.
   */
  async #flush(batch: Outgoing[], update: { cursor?: Checkpoint['cursor'] } = {}): Promise<void> {
    const cp: Checkpoint = { ...this.#cp, sent: this.#cp.sent + batch.length, cursor: update.cursor === undefined ? this.#cp.cursor : update.cursor };
    if (this.#reachedMaxWith(cp)) cp.phase = 'done';
    const sentAt = Date.now();
    await retry(
      () =>
        this.#producer.commit([{ topic: this.topic, messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) }], {
          consumer: this.#checkpointConsumer,
          topics: checkpointOffsets(this.topic, cp),
        }),
      {
        initialMs: 100,
        maxMs: 5_000,
        maxAttempts: 8,
        landed: async () => (await readCheckpoint(this.#admin, this.#checkpointConsumer, this.id, this.topic).catch(() => undefined))?.sent === cp.sent,
        onRetry: (error, attempt) => this.#log?.warn({ attempt, err: error }, 'replay transaction failed: trying it again'),
      },
    );
    const committed = Date.now();
    this.#cp = cp;
    this.#measure.transactions++;
    for (const m of batch) this.#measure.record(sentAt - m.dueMs, committed - m.dueMs, m.value.length, m.live);
    if (batch.length > 0) this.#sentCounter.inc({ replay: this.id }, batch.length);
  }

  #reachedMaxWith(cp: Checkpoint): boolean {
    return this.#o.maxAlerts !== undefined && cp.sent >= this.#o.maxAlerts;
  }
}
