import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Message, Producer } from 'kafkajs';
import { ZadsError, toZadsError } from '../../errors.ts';
import { DEFAULT_TOPIC_CONFIGS, TopicWatch, createKafka, waitForLeaders } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { counter, createMetricsRegistry, gauge, histogram } from '../../metrics.ts';
import type { Registry } from '../../metrics.ts';
import { resolveMirrorOptions } from './options.ts';
import type { MirrorOptions, ResolvedMirrorOptions } from './options.ts';
import { MirrorPositions } from './positions.ts';

/** What a mirror has done since it started. */
export interface MirrorStats {
  topics: string[];
  records: number;
  bytes: number;
  transactions: number;
  /** Records skipped because the target already had them (re-delivered after a restart). */
  skippedAlreadyMirrored: number;
  /** Per "topic/partition": next source offset to copy, and lag behind the source's high watermark. */
  partitions: Record<string, { next: string; lag: string }>;
}

function headersOf(message: KafkaMessage): Message['headers'] {
  if (!message.headers) return undefined;
  const out: NonNullable<Message['headers']> = {};
  for (const [k, v] of Object.entries(message.headers)) {
    if (v !== undefined) out[k] = v as Buffer | string | (Buffer | string)[];
  }
  return out;
}

/**
 * Copies nightly topics from one cluster to another exactly once. Source partition p goes to target
 * partition p with keys, headers and timestamps kept. Each fetched batch becomes one transaction on the
 * target holding the records and, for the mirror's group on the target, the source offset after them:
 * records and position commit together or not at all. After a crash the positions are read back from the
 * target and anything re-delivered below them is skipped; the transactional id fences a zombie writer.
 * New source topics are found by listing the source every `discoveryIntervalMs`.
 */
export class Mirror {
  readonly #options: ResolvedMirrorOptions;
  readonly #log: Logger | undefined;
  readonly #metrics: Registry;
  readonly #sourceAdmin: Admin;
  readonly #targetAdmin: Admin;
  readonly #targetKafka;
  #producer: Producer;
  #producerReady: Promise<Producer> | undefined;
  readonly #positions: MirrorPositions;
  readonly #sourceKafka;
  readonly #watch: TopicWatch;
  #consumer: Consumer | undefined;
  #topics: string[] = [];
  #report: NodeJS.Timeout | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  #failure: ZadsError | undefined;
  #onFailure: ((err: ZadsError) => void) | undefined;
  readonly #stats: MirrorStats = { topics: [], records: 0, bytes: 0, transactions: 0, skippedAlreadyMirrored: 0, partitions: {} };
  readonly #m;

  constructor(options: MirrorOptions) {
    this.#options = resolveMirrorOptions(options);
    this.#log = this.#options.logger?.child({ component: 'mirror', mirror: this.#options.name });
    this.#metrics = this.#options.metrics ?? createMetricsRegistry();
    this.#sourceKafka = createKafka(this.#options.from, this.#options.logger, `mirror-${this.#options.name}-source`);
    this.#targetKafka = createKafka(this.#options.to, this.#options.logger, `mirror-${this.#options.name}-target`);
    this.#sourceAdmin = this.#sourceKafka.admin();
    this.#targetAdmin = this.#targetKafka.admin();
    this.#producer = this.#createProducer();
    this.#positions = new MirrorPositions(this.#targetAdmin, this.groupId);
    this.#watch = new TopicWatch({
      admin: this.#sourceAdmin,
      pattern: this.#options.topics,
      intervalMs: this.#options.discoveryIntervalMs,
      onChange: (topics, added) => this.#onTopics(topics, added),
      logger: this.#log,
    });
    const labels = ['topic', 'partition'];
    this.#m = {
      records: counter(this.#metrics, 'zads_mirror_records_total', 'Records mirrored to the target', labels),
      bytes: counter(this.#metrics, 'zads_mirror_bytes_total', 'Value bytes mirrored to the target', labels),
      lag: gauge(this.#metrics, 'zads_mirror_lag_records', 'Source records not yet mirrored (high watermark − next offset)', labels),
      txnSeconds: histogram(this.#metrics, 'zads_mirror_transaction_seconds', 'Time to send and commit one transaction', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
      topics: gauge(this.#metrics, 'zads_mirror_topics', 'Topics being mirrored'),
    };
  }

  #createProducer(): Producer {
    return this.#targetKafka.producer({
      transactionalId: `zads-mirror-${this.#options.name}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      // Right after a commit the coordinator answers CONCURRENT_TRANSACTIONS until its markers are
      // written (a few ms); kafkajs retries that with the client backoff, 300 ms by default, which
      // capped the mirror at about three transactions a second. The Java client waits 20 ms. Retries
      // never end, so a broker restart is waited out rather than ending the mirror.
      retry: { initialRetryTime: 20, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  /**
   * The target producer, connected and holding its producer id. Getting the id (InitProducerId) is
   * answered only once every earlier transaction of the transactional id is complete — a commit the
   * coordinator had prepared is finished, an open one is aborted — so positions read from the target
   * after this are final: a commit whose answer was lost cannot land after them and be mirrored twice.
   */
  #readyProducer(): Promise<Producer> {
    if (!this.#producerReady) {
      const producer = this.#producer;
      const ready = (async () => {
        await producer.connect();
        // kafkajs gets the producer id in its first transaction(); an empty one ends without a request.
        await (await producer.transaction()).abort();
        return producer;
      })();
      this.#producerReady = ready;
      // Tried again at the next batch.
      ready.catch(() => {
        if (this.#producerReady === ready) this.#producerReady = undefined;
      });
    }
    return this.#producerReady;
  }

  /**
   * After a failed transaction the producer is replaced by a new one with the same transactional id.
   * kafkajs neither retries EndTxn nor recovers from a failed one (a coordinator that moved with a
   * crashed broker leaves its state machine in COMMITTING/ABORTING, and every later transaction() throws
   * "Cannot call beginTransaction", tulios/kafkajs#1355, #1282), and it keeps the idempotent sequence
   * numbers of an aborted transaction. The new producer's id comes with a new epoch: sequences start
   * again and the old transaction, if the coordinator still holds it open, is aborted.
   */
  async #replaceProducer(): Promise<void> {
    const old = this.#producer;
    this.#producer = this.#createProducer();
    this.#producerReady = undefined;
    await old.disconnect().catch((err: unknown) => this.#log?.warn({ err }, 'disconnecting the failed producer failed'));
  }

  /** The group on the target cluster whose committed offsets are the mirror's positions. */
  get groupId(): string {
    return `zads-mirror-${this.#options.name}`;
  }

  get stats(): MirrorStats {
    return structuredClone(this.#stats);
  }

  /** Called once if the mirror stops on an error it cannot retry (e.g. fenced by a newer mirror). */
  onFailure(listener: (err: ZadsError) => void): void {
    this.#onFailure = listener;
    if (this.#failure) listener(this.#failure);
  }

  /** Connects, mirrors the topics there are now, and keeps looking for new ones. */
  async start(): Promise<void> {
    if (this.#started) throw new ZadsError('INTERNAL', 'mirror already started');
    this.#started = true;
    try {
      await Promise.all([this.#sourceAdmin.connect(), this.#targetAdmin.connect(), this.#producer.connect()]);
    } catch (cause) {
      if (cause instanceof ZadsError) throw cause; // KAFKA_AUTH, KAFKA_TLS: already say what to check
      throw new ZadsError(
        'SERVICE_UNAVAILABLE',
        `mirror cannot connect (source ${this.#options.from.brokers.join(',')}, target ${this.#options.to.brokers.join(',')}): ${(cause as Error).message}`,
        { cause },
      );
    }
    await this.#watch.start();
    if (this.#options.reportIntervalMs > 0) {
      this.#report = setInterval(() => this.#logReport(), this.#options.reportIntervalMs);
    }
    this.#log?.info({ topics: this.#topics, groupId: this.groupId }, 'mirror started');
  }

  async #onTopics(matching: string[], added: string[]): Promise<void> {
    if (this.#closing) return;
    if (matching.length === 0) {
      await this.#consumer?.disconnect();
      this.#consumer = undefined;
      this.#topics = [];
      return;
    }
    await this.#ensureTargetTopics(added);
    this.#topics = matching;
    this.#stats.topics = [...matching];
    this.#m.topics.set(matching.length);
    this.#log?.info({ added }, 'new source topics: (re)starting the source consumer');
    await this.#restartConsumer();
  }

  async #ensureTargetTopics(topics: string[]): Promise<void> {
    const meta = await this.#sourceAdmin.fetchTopicMetadata({ topics });
    const existing = new Set(await this.#targetAdmin.listTopics());
    const create = meta.topics.filter((t) => !existing.has(t.name));
    if (create.length > 0) {
      try {
        await this.#targetAdmin.createTopics({
          waitForLeaders: false,
          topics: create.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions.length,
            replicationFactor: -1,
            configEntries: Object.entries(DEFAULT_TOPIC_CONFIGS).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (cause) {
        if ((cause as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw cause;
      }
    }
    const targetMeta = await waitForLeaders(this.#targetAdmin, topics);
    // A source topic that grew partitions: the target must have at least as many (p → p).
    for (const t of meta.topics) {
      const have = targetMeta.find((x) => x.name === t.name)?.partitions.length ?? 0;
      if (have < t.partitions.length) {
        await this.#targetAdmin.createPartitions({ topicPartitions: [{ topic: t.name, count: t.partitions.length }] });
      }
    }
  }

  async #restartConsumer(): Promise<void> {
    const old = this.#consumer;
    this.#consumer = undefined;
    if (old) await old.disconnect();
    const consumer = this.#sourceKafka.consumer({
      groupId: `zads-mirror-${this.#options.name}`,
      readUncommitted: false,
      maxBytesPerPartition: this.#options.maxFetchBytesPerPartition,
      maxBytes: this.#options.maxFetchBytesPerPartition * 4,
      maxWaitTimeInMs: 250,
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.#fail(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.#topics, fromBeginning: true });
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#mirrorBatch(consumer, payload),
    });
  }

  async #mirrorBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat } = payload;
    const { topic, partition } = batch;
    await this.#readyProducer();
    let next = await this.#positions.next(topic, partition);
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= next);
    const skipped = batch.messages.length - fresh.length;
    if (skipped > 0) {
      this.#stats.skippedAlreadyMirrored += skipped;
      if (fresh.length === 0) {
        // Everything here is on the target already: jump the consumer to where the target stands.
        consumer.seek({ topic, partition, offset: next.toString() });
        return;
      }
    }
    let i = 0;
    while (i < fresh.length) {
      if (!isRunning() || isStale()) return;
      const chunk: KafkaMessage[] = [];
      let bytes = 0;
      while (i < fresh.length && (chunk.length === 0 || bytes + (fresh[i]!.value?.length ?? 0) <= this.#options.maxTransactionBytes)) {
        bytes += fresh[i]!.value?.length ?? 0;
        chunk.push(fresh[i]!);
        i++;
      }
      const after = BigInt(chunk[chunk.length - 1]!.offset) + 1n;
      await this.#commitChunk(topic, partition, chunk, after);
      payload.resolveOffset(chunk[chunk.length - 1]!.offset);
      next = after;
      this.#stats.records += chunk.length;
      this.#stats.bytes += bytes;
      this.#m.records.inc({ topic, partition }, chunk.length);
      this.#m.bytes.inc({ topic, partition }, bytes);
      await heartbeat();
    }
    const lag = BigInt(batch.highWatermark) - next;
    this.#stats.partitions[`${topic}/${partition}`] = { next: next.toString(), lag: (lag < 0n ? 0n : lag).toString() };
    this.#m.lag.set({ topic, partition }, Number(lag < 0n ? 0n : lag));
  }

  async #commitChunk(topic: string, partition: number, chunk: KafkaMessage[], after: bigint): Promise<void> {
    const stop = this.#m.txnSeconds.startTimer();
    const txn = await (await this.#readyProducer()).transaction();
    try {
      await txn.send({
        topic,
        acks: -1,
        messages: chunk.map((m) => ({
          partition,
          key: m.key,
          value: m.value,
          headers: headersOf(m),
          timestamp: m.timestamp,
        })),
      });
      await txn.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic, partitions: [{ partition, offset: after.toString() }] }],
      });
      await txn.commit();
    } catch (err) {
      // No abort here: with the coordinator gone it would wait out kafkajs's retries; the replacing
      // producer's InitProducerId aborts the transaction instead.
      this.#positions.forget(topic, partition);
      const type = (err as { type?: string }).type;
      if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') {
        const fenced = new ZadsError('INTERNAL', `mirror ${this.#options.name} was fenced by a newer mirror with the same name`, {
          cause: err,
          context: { topic, partition },
          retriable: false,
        });
        this.#fail(fenced);
        throw fenced;
      }
      this.#log?.warn({ topic, partition, err: (err as Error).message }, 'mirror transaction failed: replacing the producer, then retrying from the target\'s position');
      await this.#replaceProducer();
      throw err;
    } finally {
      stop();
    }
    this.#positions.advance(topic, partition, after);
    this.#stats.transactions++;
  }

  #logReport(): void {
    const behind = Object.entries(this.#stats.partitions).filter(([, p]) => p.lag !== '0');
    this.#log?.info(
      { records: this.#stats.records, bytes: this.#stats.bytes, transactions: this.#stats.transactions, partitionsBehind: behind.length },
      'mirror progress',
    );
  }

  #fail(err: unknown): void {
    if (this.#failure) return;
    this.#failure = toZadsError(err);
    this.#log?.error({ err: this.#failure }, 'mirror stopped on an error');
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
        () => this.#sourceAdmin.disconnect(),
        () => this.#targetAdmin.disconnect(),
      ];
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          this.#log?.warn({ err }, 'mirror close step failed');
        }
      }
    })();
    return this.#closing;
  }
}
