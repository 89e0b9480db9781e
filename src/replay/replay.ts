import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { decodePayload } from '../alert/index.ts';
import { openNightReader } from '../archive/index.ts';
import { ZadsError, toZadsError } from '../errors.ts';
import { DEFAULT_NIGHT_PARTITIONS, createKafka, ensureTopic, nightTopicName } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { counter, createMetricsRegistry } from '../metrics.ts';
import { checkpointGroup, checkpointOffsets, readCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { ReplayMeasure } from './measure.ts';
import type { ReplayReport } from './measure.ts';
import { checkPacing, checkReplayId, defaultReplayTopic } from './options.ts';
import type { Pacing, ReplayOptions } from './options.ts';
import { Pacer } from './pacer.ts';
import { archivedItems, handOffPositions } from './source.ts';
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
  readonly #o: ReplayOptions;
  readonly #pacing: Pacing;
  readonly #log: Logger | undefined;
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #producer: Producer;
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
  #liveConsumer: Consumer | undefined;
  #run: Promise<ReplayReport> | undefined;
  readonly #filter: ReplayFilterCounts | undefined;

  constructor(options: ReplayOptions) {
    this.#o = options;
    this.id = checkReplayId(options.id);
    this.#pacing = checkPacing(options.pacing ?? { mode: 'max' });
    this.topic = options.topic ?? defaultReplayTopic(options.selection.night, options.selection.programid);
    this.#log = options.logger?.child({ component: 'replay', replay: this.id });
    this.#filter = options.filter ? new ReplayFilterCounts(options.filter) : undefined;
    this.#kafka = createKafka(options.target, options.logger, `replay-${this.id}`);
    this.#admin = this.#kafka.admin();
    this.#producer = this.#kafka.producer({
      transactionalId: `zads-replay-${this.id}`,
      idempotent: true,
      maxInFlightRequests: 1,
      // See the mirror: CONCURRENT_TRANSACTIONS right after a commit is retried in 20 ms, not 300.
      retry: { initialRetryTime: 20, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
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
      await Promise.all([this.#admin.connect(), this.#producer.connect()]);
      await ensureTopic(this.#kafka, { topic: this.topic, partitions: this.#o.partitions ?? DEFAULT_NIGHT_PARTITIONS });
      const saved = await readCheckpoint(this.#admin, this.id, this.topic);
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
      const e = toZadsError(err);
      this.#state = 'failed';
      this.#error = e.message;
      this.#errorCode = e.code;
      this.#log?.error({ err: e.message }, 'replay failed');
    } finally {
      for (const step of [() => this.#liveConsumer?.disconnect(), () => this.#producer.disconnect(), () => this.#admin.disconnect()]) {
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
    const maxAlerts = this.#o.maxBatchAlerts ?? 500;
    const maxBytes = this.#o.maxBatchBytes ?? 8 * 1024 * 1024;
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

  async #replayLive(pacer: Pacer, startIndex: number): Promise<void> {
    const live = this.#o.thenLive!;
    const { night, programid } = this.#o.selection;
    const topic = nightTopicName(night, programid);
    const next = new Map<number, bigint>();
    for (const [p, o] of Object.entries(this.#cp.handOff ?? {})) next.set(Number(p), BigInt(o));
    for (const [p, o] of Object.entries(this.#cp.live ?? {})) next.set(Number(p), BigInt(o));
    const kafka = createKafka(live.liveCluster, this.#o.logger, `replay-${this.id}-live`);
    const consumer = kafka.consumer({ groupId: `zads-replay-live-${this.id}`, readUncommitted: false, maxWaitTimeInMs: 250 });
    this.#liveConsumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let index = startIndex;
    let lastActivity = Date.now();
    const sought = new Set<number>();
    let failure: unknown;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isRunning, isStale }) => {
        if (failure !== undefined) return;
        try {
          const p = batch.partition;
          const start = next.get(p) ?? 0n;
          const first = batch.messages[0] ? BigInt(batch.messages[0].offset) : start;
          if (!sought.has(p)) {
            sought.add(p);
            if (first !== start) {
              consumer.seek({ topic, partition: p, offset: start.toString() });
              return;
            }
          }
          const out: Outgoing[] = [];
          let last: bigint | undefined;
          for (const m of batch.messages) {
            if (!isRunning() || isStale() || this.#cancelled) break;
            const offset = BigInt(m.offset);
            if (offset < start) continue;
            if (this.#cp.sent + out.length >= (this.#o.maxAlerts ?? Infinity)) break;
            await this.#gate();
            const value = m.value ?? Buffer.alloc(0);
            if (this.#filter && !(await this.#filter.passes(value, { topic, partition: p, offset: m.offset }))) {
              last = offset;
              continue;
            }
            const candid = await decodePayload(value).then((d) => d[0]?.alert.candid.toString() ?? '', () => '');
            const dueMs = pacer.dueAt(index++, 0, Number(m.timestamp));
            const wait = dueMs - Date.now();
            if (wait > 0) await sleep(wait);
            out.push({
              key: m.key,
              value,
              dueMs,
              live: true,
              headers: {
                'zads-replay-id': this.id,
                'zads-source-night': night,
                'zads-source-topic': topic,
                'zads-source-partition': String(p),
                'zads-source-offset': m.offset,
                'zads-candid': candid,
              },
            });
            last = offset;
          }
          if (last !== undefined) {
            next.set(p, last + 1n);
            this.#cp.live = Object.fromEntries([...next].map(([k, v]) => [String(k), v.toString()]));
            await this.#flush(out, {});
            lastActivity = Date.now();
          }
        } catch (err) {
          failure = err;
        }
      },
    });
    for (;;) {
      await sleep(100);
      if (failure !== undefined) throw failure;
      if (this.#cancelled || this.#reachedMax()) break;
      if (live.idleStopMs !== undefined && Date.now() - lastActivity > live.idleStopMs) break;
    }
    await consumer.disconnect();
    this.#liveConsumer = undefined;
  }

  /** One transaction: the messages and the checkpoint after them. */
  async #flush(batch: Outgoing[], update: { cursor?: Checkpoint['cursor'] } = {}): Promise<void> {
    const cp: Checkpoint = { ...this.#cp, sent: this.#cp.sent + batch.length, cursor: update.cursor === undefined ? this.#cp.cursor : update.cursor };
    if (this.#reachedMaxWith(cp)) cp.phase = 'done';
    const sentAt = Date.now();
    for (let attempt = 0; ; attempt++) {
      const txn = await this.#producer.transaction();
      try {
        if (batch.length > 0) {
          await txn.send({ topic: this.topic, acks: -1, messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
        }
        await txn.sendOffsets({ consumerGroupId: checkpointGroup(this.id), topics: checkpointOffsets(this.topic, cp) });
        await txn.commit();
        break;
      } catch (err) {
        await txn.abort().catch(() => undefined);
        // Right after a commit the coordinator may still be writing its markers; kafkajs does not retry
        // AddOffsetsToTxn for that, so the whole (aborted) transaction is tried again shortly.
        if ((err as { type?: string }).type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 50) throw err;
        await sleep(Math.min(20 * (attempt + 1), 500));
      }
    }
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
