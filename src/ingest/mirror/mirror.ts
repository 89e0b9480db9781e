import { ZadsError } from '../../errors.ts';
import type { Consumer, KafkaClient, KafkaMessage, Message } from '../../kafka/index.ts';
import { ConsumeLoop, KafkaSink, TransactionalProducer, createKafka, createTopicsIfMissing, growPartitions, kafkaError, waitForLeaders } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { counter, createMetricsRegistry, gauge, histogram } from '../../metrics.ts';
import type { Registry } from '../../metrics.ts';
import { resolveMirrorOptions } from './options.ts';
import type { MirrorOptions, ResolvedMirrorOptions } from './options.ts';

/** What a mirror has done since it started. */
export interface MirrorStats {
  topics: string[];
  records: number;
  bytes: number;
  transactions: number;
  /** Per "topic/partition" this process mirrors: next source offset to copy, and lag behind the source's high watermark. */
  partitions: Record<string, { next: string; lag: string }>;
}

/** A source record as it goes to the target: same partition, key, headers and timestamp. */
function targetRecord(m: KafkaMessage, partition: number): Message {
  return { partition, key: m.key, value: m.value, headers: m.headers as Message['headers'], timestamp: m.timestamp };
}

/**
 * Copies nightly topics from one cluster to another exactly once, on the engine of src/kafka/engine.
 * Source partition p goes to target partition p with keys, headers and timestamps kept. Each chunk of a
 * fetched batch is one transaction on the target holding the records and, for the mirror's group on the
 * target, the source offset after them: records and position commit together or not at all. Mirrors with
 * the same name share the source partitions through their consumer group on the source; whoever is
 * assigned a partition starts at the position the target holds (read as stable offsets, so a dead
 * process's open transaction is waited out, never mirrored twice).
 */
export class Mirror {
  readonly #o: ResolvedMirrorOptions;
  readonly #log: Logger | undefined;
  readonly #target: KafkaClient;
  readonly #targetAdmin;
  /** On the target, in the mirror's group, never subscribed: the offsets of each transaction are committed for it. */
  readonly #offsetsConsumer: Consumer;
  readonly #producer: TransactionalProducer;
  readonly #loop: ConsumeLoop;
  #report: NodeJS.Timeout | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  readonly #stats: Omit<MirrorStats, 'partitions' | 'topics'> = { records: 0, bytes: 0, transactions: 0 };
  readonly #m;

  constructor(options: MirrorOptions) {
    this.#o = resolveMirrorOptions(options);
    this.#log = this.#o.logger?.child({ component: 'mirror', mirror: this.#o.name, instance: this.#o.instance });
    const metrics: Registry = this.#o.metrics ?? createMetricsRegistry();
    const source = createKafka(this.#o.from, this.#o.logger, `mirror-${this.#o.name}-source`);
    this.#target = createKafka(this.#o.to, this.#o.logger, `mirror-${this.#o.name}-target`);
    this.#targetAdmin = this.#target.admin();
    this.#offsetsConsumer = this.#target.consumer({ groupId: this.groupId });
    this.#producer = new TransactionalProducer({
      kafka: this.#target,
      transactionalId: `${this.groupId}-${this.#o.instance}`,
      transactionTimeoutMs: this.#o.transactionTimeoutMs,
      who: `mirror ${this.#o.name}`,
      logger: this.#log,
    });
    const labels = ['topic', 'partition'];
    this.#m = {
      records: counter(metrics, 'zads_mirror_records_total', 'Records mirrored to the target', labels),
      bytes: counter(metrics, 'zads_mirror_bytes_total', 'Value bytes mirrored to the target', labels),
      lag: gauge(metrics, 'zads_mirror_lag_records', 'Source records not yet mirrored (high watermark − next offset)', labels),
      txnSeconds: histogram(metrics, 'zads_mirror_transaction_seconds', 'Time to send and commit one transaction', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
      topics: gauge(metrics, 'zads_mirror_topics', 'Topics being mirrored'),
    };
    this.#loop = new ConsumeLoop({
      kafka: source,
      groupId: this.groupId,
      topics: this.#o.topics,
      discoveryIntervalMs: this.#o.discoveryIntervalMs,
      maxFetchBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      who: `mirror ${this.#o.name}`,
      logger: this.#log,
      // Several partitions in flight: their chunks share one transaction (KafkaSink's group commit).
      partitionsConcurrently: 4,
      prepare: (topics, added) => this.#prepare(topics, added),
      sink: new KafkaSink({
        producer: this.#producer,
        groupId: this.groupId,
        positionsReader: this.#offsetsConsumer,
        offsetsConsumer: this.#offsetsConsumer,
        maxTransactionBytes: this.#o.maxTransactionBytes,
        transform: (topic, partition, messages) => [{ topic, messages: messages.map((m) => targetRecord(m, partition)) }],
        committed: (topic, partition, inputs, _outputs, seconds) => {
          const bytes = inputs.reduce((n, m) => n + (m.value?.length ?? 0), 0);
          this.#stats.records += inputs.length;
          this.#stats.bytes += bytes;
          this.#stats.transactions++;
          this.#m.records.inc({ topic, partition }, inputs.length);
          this.#m.bytes.inc({ topic, partition }, bytes);
          this.#m.txnSeconds.observe(seconds);
        },
      }),
    });
  }

  /** The source group sharing the partitions, and the target group holding the positions. */
  get groupId(): string {
    return `zads-mirror-${this.#o.name}`;
  }

  get stats(): MirrorStats {
    const partitions: MirrorStats['partitions'] = {};
    for (const p of this.#loop.lag.values()) {
      partitions[`${p.topic}/${p.partition}`] = { next: p.next.toString(), lag: p.lag.toString() };
      this.#m.lag.set({ topic: p.topic, partition: p.partition }, Number(p.lag));
    }
    return { ...this.#stats, topics: [...this.#loop.topics], partitions };
  }

  /** Called once if the mirror stops on an error it cannot retry (e.g. fenced by a newer mirror). */
  onFailure(listener: (err: ZadsError) => void): void {
    this.#loop.onFailure(listener);
  }

  /** Connects, mirrors the topics there are now, and keeps looking for new ones. */
  async start(): Promise<void> {
    if (this.#started) throw new ZadsError('INTERNAL', 'mirror already started');
    this.#started = true;
    try {
      await Promise.all([this.#targetAdmin.connect(), this.#offsetsConsumer.connect(), this.#producer.ready()]);
    } catch (cause) {
      throw kafkaError(cause, { cluster: this.#o.to, doing: 'connect', who: `mirror ${this.#o.name}` });
    }
    await this.#loop.start();
    if (this.#o.reportIntervalMs > 0) this.#report = setInterval(() => this.#logReport(), this.#o.reportIntervalMs);
    this.#log?.info({ topics: this.#loop.topics, groupId: this.groupId }, 'mirror started');
  }

  /** Creates the new topics on the target with the source's partition count (p → p); nothing for deleted ones. */
  async #prepare(topics: string[], added: string[]): Promise<void> {
    this.#m.topics.set(topics.length);
    if (added.length === 0) return;
    // On a cluster of several brokers a topic just created is not known to every broker yet: wait it out.
    const sourceMeta = await waitForLeaders(this.#loop.admin, added);
    const have = await createTopicsIfMissing(
      this.#targetAdmin,
      sourceMeta.map((t) => ({ topic: t.name, partitions: t.partitions.length, configs: this.#o.targetTopicConfigs })),
    );
    // A source topic that grew partitions: the target must have at least as many.
    for (const t of sourceMeta) {
      const count = have.find((x) => x.name === t.name)?.partitions.length ?? 0;
      if (count < t.partitions.length) await growPartitions(this.#target, t.name, t.partitions.length);
    }
    this.#log?.info({ added }, 'new source topics: created on the target');
  }

  #logReport(): void {
    const stats = this.stats;
    const behind = Object.values(stats.partitions).filter((p) => p.lag !== '0').length;
    this.#log?.info({ records: stats.records, bytes: stats.bytes, transactions: stats.transactions, partitionsBehind: behind }, 'mirror progress');
  }

  /** Stops consuming and disconnects everything; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#report) clearInterval(this.#report);
      for (const step of [() => this.#loop.close(), () => this.#producer.close(), () => this.#offsetsConsumer.disconnect(), () => this.#targetAdmin.disconnect()]) {
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
