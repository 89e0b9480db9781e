import { toZadsError } from '../../errors.ts';
import type { ZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { Backoff } from '../../retry.ts';
import type { Consumer, EachBatchPayload, KafkaClient, KafkaMessage, RdKafkaConfig } from '../client.ts';
import { kafkaError } from '../errors.ts';
import { TopicWatch } from '../topic-watch.ts';

/** One partition's messages handed to the sink, in offset order. */
export interface InputBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The partition's high watermark (last stable offset for read_committed) when the batch was fetched. */
  highWatermark: bigint;
  /** The consumer that fetched it: a transactional sink commits its offsets for this consumer's group (KIP-447). */
  consumer: Consumer;
}

/**
 * Where the records of a loop go. The sink is the only truth about progress: it says where each
 * partition must start, and `write` makes a batch durable together with the position after it.
 */
export interface Sink {
  /**
   * The next offset to read of each partition (undefined: from the beginning), asked when partitions are
   * assigned and again after a failed write (whose commit may or may not have landed).
   */
  positions(partitions: { topic: string; partition: number }[]): Promise<Map<string, bigint | undefined>>;
  /**
   * Makes the batch durable with the position after its last message; resolves with how many of its
   * leading messages are done (all, unless the loop's stop asked it to stop early). Throws a ZadsError:
   * retriable ones are retried from `positions`, others stop the loop.
   */
  write(batch: InputBatch, isRunning: () => boolean): Promise<number>;
  /** Partitions taken away (rebalance, topic gone): forget what is cached about them. */
  revoked?(partitions: { topic: string; partition: number }[]): void;
}

export interface ConsumeLoopOptions {
  kafka: KafkaClient;
  /** The consumer group that shares the input partitions among processes with the same name. */
  groupId: string;
  /** Whole-name pattern of the input topics; new ones are found every `discoveryIntervalMs`. */
  topics: RegExp;
  /** Leaves out topics that match the pattern but are not input (e.g. a filter's own outputs). */
  exclude?: (topic: string) => boolean;
  /** How often the cluster is listed for new or deleted input topics, in ms. */
  discoveryIntervalMs: number;
  /** Called before consuming a new set of input topics (create outputs, …); `added` are the new ones. */
  prepare?: (topics: string[], added: string[]) => Promise<void>;
  sink: Sink;
  /** Most bytes fetched per partition in one request. */
  maxFetchBytesPerPartition: number;
  /** Most messages of one partition in one batch. */
  maxBatchMessages?: number;
  /** Static group membership id (KIP-345): a restart with the same id gets its partitions back at once. */
  groupInstanceId?: string;
  /** Group session timeout, in ms: how long a dead member's partitions wait before they move. */
  sessionTimeoutMs?: number;
  /** Partitions processed side by side (each batch is still one partition). */
  partitionsConcurrently?: number;
  /** Who runs the loop, for messages: "mirror x". */
  who: string;
  logger?: Logger;
  rdkafka?: RdKafkaConfig;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The one consume loop of the project: watches the input topics, consumes them in a consumer group
 * (partitions shared among processes with the same group), starts each partition where the sink says, hands
 * each fetched batch to the sink, and on a failed write goes back to where the sink says and tries again
 * with capped backoff. A non-retriable failure (fenced, refused, a bug) stops it and is reported once.
 */
export class ConsumeLoop {
  readonly #o: ConsumeLoopOptions;
  readonly #admin;
  readonly #watch: TopicWatch;
  readonly #backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
  #consumer: Consumer | undefined;
  #topics: string[] = [];
  #closing: Promise<void> | undefined;
  #failure: ZadsError | undefined;
  #onFailure: ((err: ZadsError) => void) | undefined;
  /** Partitions whose position must be taken from the sink before the next batch is written. */
  readonly #reposition = new Set<string>();
  /** Per partition: the next offset to read and how far behind the high watermark it is. */
  readonly lag = new Map<string, { topic: string; partition: number; next: bigint; lag: bigint }>();

  constructor(options: ConsumeLoopOptions) {
    this.#o = options;
    this.#admin = options.kafka.admin();
    this.#watch = new TopicWatch({
      admin: this.#admin,
      pattern: options.topics,
      intervalMs: options.discoveryIntervalMs,
      onChange: (topics, added) => this.#onTopics(topics, added),
      logger: options.logger,
    });
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  get admin() {
    return this.#admin;
  }

  /** Called once if the loop stops on an error it cannot retry. */
  onFailure(listener: (err: ZadsError) => void): void {
    this.#onFailure = listener;
    if (this.#failure) listener(this.#failure);
  }

  async start(): Promise<void> {
    try {
      await this.#admin.connect();
    } catch (err) {
      throw kafkaError(err, { cluster: this.#o.kafka.cluster, doing: 'connect', who: this.#o.who });
    }
    try {
      await this.#watch.start();
    } catch (err) {
      // With the cluster named, a refused login says the broker's reason (errors.ts) instead of "transport failure".
      throw kafkaError(err, { cluster: this.#o.kafka.cluster, doing: 'list topics', who: this.#o.who });
    }
  }

  async #onTopics(matching: string[], added: string[]): Promise<void> {
    if (this.#closing) return;
    const inputs = this.#o.exclude ? matching.filter((t) => !this.#o.exclude!(t)) : matching;
    if (inputs.join('\n') === this.#topics.join('\n')) return;
    const gone = this.#topics.filter((t) => !inputs.includes(t));
    if (gone.length > 0) this.#o.logger?.info({ gone }, 'input topics deleted: going on with the others');
    const fresh = this.#o.exclude ? added.filter((t) => !this.#o.exclude!(t)) : added;
    if (inputs.length > 0) await this.#o.prepare?.(inputs, fresh);
    // The set is taken as ours only once the consumer runs on it: after a failed restart the topic watch
    // reports the same change again and the restart is tried again.
    await this.#restart(inputs);
    this.#topics = inputs;
    for (const [k, v] of this.lag) if (!inputs.includes(v.topic)) this.lag.delete(k);
  }

  async #restart(topics: string[]): Promise<void> {
    const old = this.#consumer;
    this.#consumer = undefined;
    if (old) await old.disconnect().catch((err: unknown) => this.#o.logger?.warn({ err }, 'disconnecting the old consumer failed'));
    if (topics.length === 0) return;
    const consumer = this.#o.kafka.consumer({
      groupId: this.#o.groupId,
      maxBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      maxBatchSize: this.#o.maxBatchMessages ?? 500,
      sessionTimeoutMs: this.#o.sessionTimeoutMs,
      ...(this.#o.groupInstanceId ? { groupInstanceId: this.#o.groupInstanceId } : {}),
      rebalance: (event, partitions) => this.#rebalance(event, partitions),
      rdkafka: this.#o.rdkafka,
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw kafkaError(err, { cluster: this.#o.kafka.cluster, doing: `subscribe to ${topics.join(', ')}`, who: this.#o.who });
    }
    this.#consumer = consumer;
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.partitionsConcurrently ?? 1,
      eachBatch: (payload) => this.#batch(consumer, payload),
    });
  }

  async #rebalance(event: 'assign' | 'revoke', partitions: { topic: string; partition: number }[]) {
    if (event === 'revoke') {
      this.#o.sink.revoked?.(partitions);
      for (const p of partitions) this.lag.delete(key(p.topic, p.partition));
      return undefined;
    }
    if (partitions.length === 0) return undefined;
    try {
      const at = await this.#o.sink.positions(partitions);
      this.#o.logger?.info({ partitions: partitions.length }, 'partitions assigned');
      // -2 is librdkafka's OFFSET_BEGINNING.
      return partitions.map((p) => ({ ...p, offset: (at.get(key(p.topic, p.partition)) ?? -2n).toString() }));
    } catch (err) {
      // Without a position the partition must not start at the group's (maybe stale) offset: ask again before
      // its first batch is written.
      this.#o.logger?.warn({ err }, 'reading the positions of newly assigned partitions failed; will ask again');
      for (const p of partitions) this.#reposition.add(key(p.topic, p.partition));
      return undefined;
    }
  }

  async #batch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const k = key(topic, partition);
    if (this.#failure || this.#closing || batch.messages.length === 0) return;
    try {
      let messages = batch.messages;
      if (this.#reposition.has(k)) {
        const next = (await this.#o.sink.positions([{ topic, partition }])).get(k) ?? 0n;
        this.#reposition.delete(k);
        if (BigInt(messages[0]!.offset) !== next) {
          messages = messages.filter((m) => BigInt(m.offset) >= next);
          if (messages.length === 0 || BigInt(messages[0]!.offset) !== next) {
            consumer.seek({ topic, partition, offset: next.toString() });
            return;
          }
        }
      }
      const isRunning = () => payload.isRunning() && !payload.isStale() && !this.#closing;
      const done = await this.#o.sink.write({ topic, partition, messages, highWatermark: BigInt(batch.highWatermark), consumer }, isRunning);
      this.#backoff.reset();
      if (done > 0) {
        const last = messages[done - 1]!.offset;
        payload.resolveOffset(last);
        const next = BigInt(last) + 1n;
        const hw = BigInt(batch.highWatermark);
        this.lag.set(k, { topic, partition, next, lag: hw > next ? hw - next : 0n });
      }
    } catch (err) {
      const error = toZadsError(err, { topic, partition });
      if (!error.retriable) {
        this.#fail(error);
        return;
      }
      this.#o.logger?.warn({ topic, partition, err: error }, 'batch failed: going back to the committed position and trying again');
      this.#reposition.add(k);
      // Unresolved messages are fetched again from the first one; the sink's position decides what is written.
      await this.#backoff.wait();
    }
  }

  #fail(err: ZadsError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#o.logger?.error({ err }, `${this.#o.who} stopped on an error`);
    this.#onFailure?.(err);
  }

  /** Stops consuming (a batch being written finishes first) and disconnects; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const step of [() => this.#watch.stop(), () => this.#consumer?.disconnect(), () => this.#admin.disconnect()]) {
        try {
          await step();
        } catch (err) {
          this.#o.logger?.warn({ err }, `${this.#o.who}: close step failed`);
        }
      }
    })();
    return this.#closing;
  }
}
