import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer, TopicMessages } from 'kafkajs';
import { ZadsError, toZadsError } from '../../errors.ts';
import { DEFAULT_TOPIC_CONFIGS, TopicWatch, createKafka, waitForLeaders } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { counter, createMetricsRegistry, gauge, histogram } from '../../metrics.ts';
import type { Registry } from '../../metrics.ts';
import { InProcessJudge, isUndecodable } from '../judge.ts';
import type { Judge } from '../judge.ts';
import type { FilterStats } from '../types.ts';
import { outputTopic, resolveFilterStreamOptions } from './options.ts';
import type { FilterStreamOptions, ResolvedFilterStreamOptions } from './options.ts';
import { GroupPositions } from './positions.ts';
import { outputRecord } from './records.ts';

/** What a stream runner has done since it started. */
export interface FilterStreamStats {
  /** Input topics being read. */
  topics: string[];
  /** Input records judged and committed (undecodable ones included). */
  consumed: number;
  /** Input records that did not decode: counted and skipped (the archive keeps them in its quarantine). */
  undecodable: number;
  transactions: number;
  /** Output records written, per filter name. */
  written: Record<string, number>;
  /** Per filter: alerts tested, passed, rejected, errors, timeouts. */
  filters: FilterStats[];
  /** Per "topic/partition": the next input offset to judge, and how far behind the high watermark it is. */
  partitions: Record<string, { next: string; lag: string }>;
}

const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/**
 * Runs filters over the nightly topics of one cluster and writes each passing record's original bytes
 * to `<topic><suffix>` (default `<topic>_<filter>`), exactly once: each chunk of a fetched batch is one
 * transaction holding the output records and the input offset after the chunk, committed for the
 * runner's consumer group. Restarted, the group resumes at its committed offsets; a record whose
 * transaction aborted is judged again, one whose transaction committed never is. New input topics are
 * found by listing the cluster every `discoveryIntervalMs`.
 */
export class FilterStream {
  readonly #o: ResolvedFilterStreamOptions;
  readonly #log: Logger | undefined;
  readonly #judge: Judge;
  readonly #ownJudge: boolean;
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #positions: GroupPositions;
  readonly #watch: TopicWatch;
  readonly #suffixes: string[];
  #consumer: Consumer | undefined;
  #topics: string[] = [];
  #report: NodeJS.Timeout | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  #failure: ZadsError | undefined;
  #onFailure: ((err: ZadsError) => void) | undefined;
  #undecodableLogged = 0;
  readonly #stats: Omit<FilterStreamStats, 'filters'>;
  readonly #m;

  constructor(options: FilterStreamOptions) {
    this.#o = resolveFilterStreamOptions(options);
    this.#log = this.#o.logger?.child({ component: 'filter-stream', runner: this.#o.name });
    const metrics: Registry = this.#o.metrics ?? createMetricsRegistry();
    this.#ownJudge = this.#o.judge === undefined;
    this.#judge = this.#o.judge ?? new InProcessJudge(this.#o.filters!, { timeoutMs: this.#o.timeoutMs, freezeAlerts: this.#o.freezeAlerts, logger: this.#log, metrics });
    this.#suffixes = this.#o.ids.map((f) => outputTopic('', this.#o.outputSuffix, f.name));
    this.#kafka = createKafka(this.#o.cluster, this.#o.logger, `filter-${this.#o.name}`);
    this.#admin = this.#kafka.admin();
    this.#producer = this.#kafka.producer({
      transactionalId: this.groupId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      // As in the mirror: the coordinator answers CONCURRENT_TRANSACTIONS for a few ms after each commit,
      // and kafkajs's default 300 ms backoff would cap us at ~3 transactions a second. Retries never end,
      // so a broker restart is waited out.
      retry: { initialRetryTime: 20, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
    this.#positions = new GroupPositions(this.#admin, this.groupId);
    this.#watch = new TopicWatch({
      admin: this.#admin,
      pattern: this.#o.topics,
      intervalMs: this.#o.discoveryIntervalMs,
      onChange: (topics, added) => this.#onTopics(topics, added),
      logger: this.#log,
    });
    this.#stats = { topics: [], consumed: 0, undecodable: 0, transactions: 0, written: Object.fromEntries(this.#o.ids.map((f) => [f.name, 0])), partitions: {} };
    this.#m = {
      consumed: counter(metrics, 'zads_filter_input_records_total', 'Input records judged and committed', ['topic']),
      undecodable: counter(metrics, 'zads_filter_undecodable_total', 'Input records that did not decode (skipped)', ['topic']),
      written: counter(metrics, 'zads_filter_output_records_total', 'Records written to output topics', ['filter']),
      lag: gauge(metrics, 'zads_filter_lag_records', 'Input records not yet judged (high watermark − next offset)', ['topic', 'partition']),
      txnSeconds: histogram(metrics, 'zads_filter_transaction_seconds', 'Time to judge, send and commit one chunk', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    };
  }

  /** The consumer group (and transactional id) whose committed offsets are the runner's positions. */
  get groupId(): string {
    return `zads-filter-${this.#o.name}`;
  }

  get stats(): FilterStreamStats {
    return { ...structuredClone(this.#stats), filters: this.#judge.stats };
  }

  /** The output topics of one input topic, in filter order. */
  outputTopics(input: string): string[] {
    return this.#o.ids.map((f) => outputTopic(input, this.#o.outputSuffix, f.name));
  }

  /** Called once if the runner stops on an error it cannot retry (e.g. fenced by a newer runner). */
  onFailure(listener: (err: ZadsError) => void): void {
    this.#onFailure = listener;
    if (this.#failure) listener(this.#failure);
  }

  /** Connects, starts on the input topics there are now, and keeps looking for new ones. */
  async start(): Promise<void> {
    if (this.#started) throw new ZadsError('INTERNAL', 'filter runner already started');
    this.#started = true;
    try {
      await Promise.all([this.#admin.connect(), this.#producer.connect()]);
    } catch (cause) {
      if (cause instanceof ZadsError) throw cause; // KAFKA_AUTH, KAFKA_TLS: already say what to check
      throw new ZadsError('SERVICE_UNAVAILABLE', `filter runner cannot connect to ${this.#o.cluster.brokers.join(',')}: ${(cause as Error).message}`, { cause });
    }
    await this.#watch.start();
    if (this.#o.reportIntervalMs > 0) this.#report = setInterval(() => this.#logReport(), this.#o.reportIntervalMs);
    this.#log?.info({ topics: this.#topics, groupId: this.groupId, filters: this.#o.ids.map((f) => f.name) }, 'filter runner started');
  }

  #isOutput(topic: string): boolean {
    return this.#suffixes.some((s) => topic.endsWith(s));
  }

  async #onTopics(matching: string[], added: string[]): Promise<void> {
    if (this.#closing) return;
    const inputs = matching.filter((t) => !this.#isOutput(t));
    if (inputs.join('\n') === this.#topics.join('\n')) return;
    if (inputs.length === 0) {
      await this.#consumer?.disconnect();
      this.#consumer = undefined;
      this.#topics = [];
      this.#stats.topics = [];
      return;
    }
    await this.#ensureOutputs(added.filter((t) => !this.#isOutput(t)));
    this.#log?.info({ inputs }, 'input topics changed: (re)starting the consumer');
    // The set is taken as ours only once the consumer runs on it: after a failed restart the topic watch
    // reports the same change again and the restart is tried again (else it would look like no change).
    await this.#restartConsumer(inputs);
    this.#topics = inputs;
    this.#stats.topics = [...inputs];
  }

  /** Creates each output topic with the partition count of its input (record p goes to partition p). */
  async #ensureOutputs(inputs: string[]): Promise<void> {
    if (inputs.length === 0) return;
    const meta = await this.#admin.fetchTopicMetadata({ topics: inputs });
    const wanted = meta.topics.flatMap((t) => this.outputTopics(t.name).map((topic) => ({ topic, partitions: t.partitions.length })));
    const existing = new Set(await this.#admin.listTopics());
    const create = wanted.filter((w) => !existing.has(w.topic));
    if (create.length > 0) {
      try {
        await this.#admin.createTopics({
          waitForLeaders: false,
          topics: create.map((w) => ({
            topic: w.topic,
            numPartitions: w.partitions,
            replicationFactor: -1,
            configEntries: Object.entries(DEFAULT_TOPIC_CONFIGS).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (cause) {
        if ((cause as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw cause;
      }
    }
    // On a cluster of several brokers a new topic reaches each broker's metadata a moment later: wait it out.
    const have = await waitForLeaders(this.#admin, wanted.map((w) => w.topic));
    for (const w of wanted) {
      const count = have.find((t) => t.name === w.topic)?.partitions.length ?? 0;
      if (count < w.partitions) await this.#admin.createPartitions({ topicPartitions: [{ topic: w.topic, count: w.partitions }] });
    }
  }

  async #restartConsumer(topics: string[]): Promise<void> {
    const old = this.#consumer;
    this.#consumer = undefined;
    if (old) await old.disconnect();
    const consumer = this.#kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      maxBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      maxBytes: this.#o.maxFetchBytesPerPartition * 4,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.#fail(event.payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#filterBatch(consumer, payload),
    });
  }

  async #filterBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat } = payload;
    const { topic, partition } = batch;
    let next = await this.#positions.next(topic, partition);
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= next);
    if (fresh.length === 0) {
      // All judged already (re-delivered after a failed transaction): go to where the group stands.
      if (batch.messages.length > 0) consumer.seek({ topic, partition, offset: next.toString() });
      return;
    }
    let i = 0;
    while (i < fresh.length) {
      if (!isRunning() || isStale()) return;
      const chunk: KafkaMessage[] = [];
      let bytes = 0;
      while (i < fresh.length && (chunk.length === 0 || bytes + (fresh[i]!.value?.length ?? 0) <= this.#o.maxTransactionBytes)) {
        bytes += fresh[i]!.value?.length ?? 0;
        chunk.push(fresh[i]!);
        i++;
      }
      const stop = this.#m.txnSeconds.startTimer();
      const outputs = await this.#judgeChunk(topic, partition, chunk);
      const last = chunk[chunk.length - 1]!.offset;
      const after = BigInt(last) + 1n;
      await this.#commitChunk(topic, partition, outputs, after);
      stop();
      payload.resolveOffset(last);
      next = after;
      this.#stats.consumed += chunk.length;
      this.#m.consumed.inc({ topic }, chunk.length);
      for (const out of outputs) {
        const name = out.filter;
        this.#stats.written[name] = (this.#stats.written[name] ?? 0) + out.messages.length;
        this.#m.written.inc({ filter: name }, out.messages.length);
      }
      await heartbeat();
    }
    const lag = BigInt(batch.highWatermark) - next;
    this.#stats.partitions[`${topic}/${partition}`] = { next: next.toString(), lag: (lag < 0n ? 0n : lag).toString() };
    this.#m.lag.set({ topic, partition }, Number(lag < 0n ? 0n : lag));
  }

  /** Judges a chunk's records side by side (a hung async filter costs one timeout per chunk, not per record). */
  async #judgeChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<(TopicMessages & { filter: string })[]> {
    const filters = this.#o.ids;
    const passed = await Promise.all(chunk.map((m) => this.#judgeRecord(topic, partition, m)));
    const perFilter: Message[][] = filters.map(() => []);
    for (let k = 0; k < chunk.length; k++) {
      const verdict = passed[k];
      if (!verdict) continue;
      for (let i = 0; i < filters.length; i++) if (verdict[i]) perFilter[i]!.push(outputRecord(chunk[k]!, partition, filters[i]!));
    }
    return perFilter
      .map((messages, i) => ({ filter: filters[i]!.name, topic: outputTopic(topic, this.#o.outputSuffix, filters[i]!.name), messages }))
      .filter((t) => t.messages.length > 0);
  }

  /** Per filter, whether the record passes; undefined for a record that does not decode. */
  async #judgeRecord(topic: string, partition: number, message: KafkaMessage): Promise<boolean[] | undefined> {
    const source = { topic, partition, offset: message.offset };
    try {
      if (!message.value) throw new ZadsError('ALERT_NOT_CONTAINER', 'message has no value', { context: source });
      const verdict = await this.#judge.judge(message.value, source);
      return verdict.passed.map((alerts) => alerts.length > 0);
    } catch (err) {
      // Only bytes that are no alert are skipped; a judge that cannot go on fails the batch, uncommitted.
      if (!isUndecodable(err)) throw err;
      this.#stats.undecodable++;
      this.#m.undecodable.inc({ topic });
      // Logged at the 1st, 2nd, 4th… so a stream of bad records does not flood the log.
      if ((++this.#undecodableLogged & (this.#undecodableLogged - 1)) === 0) {
        this.#log?.warn({ err: toZadsError(err, source).describe(), undecodable: this.#stats.undecodable }, 'record does not decode: skipped (the archive quarantines it)');
      }
      return undefined;
    }
  }

  async #commitChunk(topic: string, partition: number, outputs: TopicMessages[], after: bigint): Promise<void> {
    const txn = await this.#producer.transaction();
    try {
      if (outputs.length > 0) await txn.sendBatch({ acks: -1, topicMessages: outputs.map(({ topic: t, messages }) => ({ topic: t, messages })) });
      await txn.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic, partitions: [{ partition, offset: after.toString() }] }] });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      this.#positions.forget(topic, partition);
      if (FENCED.has((err as { type?: string }).type ?? '')) {
        const fenced = new ZadsError('INTERNAL', `filter runner ${this.#o.name} was fenced by a newer runner with the same name`, {
          cause: err,
          context: { topic, partition },
          retriable: false,
        });
        this.#fail(fenced);
        throw fenced;
      }
      throw err;
    }
    this.#positions.advance(topic, partition, after);
    this.#stats.transactions++;
  }

  #logReport(): void {
    const behind = Object.values(this.#stats.partitions).filter((p) => p.lag !== '0').length;
    this.#log?.info({ consumed: this.#stats.consumed, undecodable: this.#stats.undecodable, written: this.#stats.written, partitionsBehind: behind }, 'filter progress');
  }

  #fail(err: unknown): void {
    if (this.#failure) return;
    this.#failure = toZadsError(err);
    this.#log?.error({ err: this.#failure }, 'filter runner stopped on an error');
    this.#onFailure?.(this.#failure);
  }

  /** Stops consuming and disconnects everything; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#report) clearInterval(this.#report);
      await this.#watch.stop();
      const steps = [
        () => this.#consumer?.disconnect(),
        () => this.#producer.disconnect(),
        () => this.#admin.disconnect(),
        () => (this.#ownJudge ? this.#judge.close() : undefined),
      ];
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          this.#log?.warn({ err }, 'filter runner close step failed');
        }
      }
    })();
    return this.#closing;
  }
}
