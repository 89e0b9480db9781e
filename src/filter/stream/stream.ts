import { ZadsError, toZadsError } from '../../errors.ts';
import type { KafkaMessage, Message, TopicRecords } from '../../kafka/index.ts';
import { ConsumeLoop, KafkaSink, TransactionalProducer, createKafka, createTopicsIfMissing, growPartitions, kafkaError, waitForLeaders } from '../../kafka/index.ts';
import type { Consumer, KafkaClient } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { counter, createMetricsRegistry, gauge, histogram } from '../../metrics.ts';
import type { Registry } from '../../metrics.ts';
import { InProcessJudge, isUndecodable } from '../judge.ts';
import type { Judge } from '../judge.ts';
import type { FilterStats } from '../types.ts';
import { outputTopic, resolveFilterStreamOptions } from './options.ts';
import type { FilterStreamOptions, ResolvedFilterStreamOptions } from './options.ts';
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
  /** Per "topic/partition" this process judges: the next input offset, and how far behind the high watermark it is. */
  partitions: Record<string, { next: string; lag: string }>;
}

/**
 * Runs filters over the nightly topics of one cluster and writes each passing record's original bytes
 * to `<topic><suffix>` (default `<topic>_<filter>`), exactly once, on the engine of src/kafka/engine: each
 * chunk of a fetched batch is one transaction holding the output records and the input offset after the
 * chunk, committed for the runner's consumer group with its generation (KIP-447). Runners with the same
 * name share the input partitions; a record whose transaction aborted is judged again, one whose
 * transaction committed never is. New input topics are found by listing the cluster every `discoveryIntervalMs`.
 */
export class FilterStream {
  readonly #o: ResolvedFilterStreamOptions;
  readonly #log: Logger | undefined;
  readonly #judge: Judge;
  readonly #ownJudge: boolean;
  readonly #kafka: KafkaClient;
  readonly #producer: TransactionalProducer;
  /** In the runner's group, never subscribed: reads the committed positions of newly assigned partitions. */
  readonly #positionsReader: Consumer;
  readonly #loop: ConsumeLoop;
  readonly #suffixes: string[];
  #report: NodeJS.Timeout | undefined;
  #started = false;
  #closing: Promise<void> | undefined;
  #undecodableLogged = 0;
  readonly #stats: Omit<FilterStreamStats, 'filters' | 'partitions' | 'topics'>;
  readonly #m;

  constructor(options: FilterStreamOptions) {
    this.#o = resolveFilterStreamOptions(options);
    this.#log = this.#o.logger?.child({ component: 'filter-stream', runner: this.#o.name, instance: this.#o.instance });
    const metrics: Registry = this.#o.metrics ?? createMetricsRegistry();
    this.#ownJudge = this.#o.judge === undefined;
    this.#judge = this.#o.judge ?? new InProcessJudge(this.#o.filters!, { timeoutMs: this.#o.timeoutMs, freezeAlerts: this.#o.freezeAlerts, logger: this.#log, metrics });
    this.#suffixes = this.#o.ids.map((f) => outputTopic('', this.#o.outputSuffix, f.name));
    this.#kafka = createKafka(this.#o.cluster, this.#o.logger, `filter-${this.#o.name}`);
    this.#producer = new TransactionalProducer({
      kafka: this.#kafka,
      transactionalId: `${this.groupId}-${this.#o.instance}`,
      who: `filter runner ${this.#o.name}`,
      logger: this.#log,
    });
    this.#positionsReader = this.#kafka.consumer({ groupId: this.groupId });
    this.#stats = { consumed: 0, undecodable: 0, transactions: 0, written: Object.fromEntries(this.#o.ids.map((f) => [f.name, 0])) };
    this.#m = {
      consumed: counter(metrics, 'zads_filter_input_records_total', 'Input records judged and committed', ['topic']),
      undecodable: counter(metrics, 'zads_filter_undecodable_total', 'Input records that did not decode (skipped)', ['topic']),
      written: counter(metrics, 'zads_filter_output_records_total', 'Records written to output topics', ['filter']),
      lag: gauge(metrics, 'zads_filter_lag_records', 'Input records not yet judged (high watermark − next offset)', ['topic', 'partition']),
      txnSeconds: histogram(metrics, 'zads_filter_transaction_seconds', 'Time to send and commit one chunk', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    };
    this.#loop = new ConsumeLoop({
      kafka: this.#kafka,
      groupId: this.groupId,
      topics: this.#o.topics,
      exclude: (t) => this.#isOutput(t),
      discoveryIntervalMs: this.#o.discoveryIntervalMs,
      maxFetchBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      who: `filter runner ${this.#o.name}`,
      logger: this.#log,
      // Several partitions in flight: their chunks share one transaction (KafkaSink's group commit).
      partitionsConcurrently: 4,
      prepare: (_topics, added) => this.#ensureOutputs(added),
      sink: new KafkaSink({
        producer: this.#producer,
        groupId: this.groupId,
        positionsReader: this.#positionsReader,
        maxTransactionBytes: this.#o.maxTransactionBytes,
        transform: (topic, partition, messages) => this.#judgeChunk(topic, partition, messages),
        committed: (topic, _partition, inputs, outputs, seconds) => {
          this.#stats.consumed += inputs.length;
          this.#stats.transactions++;
          this.#m.consumed.inc({ topic }, inputs.length);
          this.#m.txnSeconds.observe(seconds);
          for (const out of outputs as (TopicRecords & { filter: string })[]) {
            this.#stats.written[out.filter] = (this.#stats.written[out.filter] ?? 0) + out.messages.length;
            this.#m.written.inc({ filter: out.filter }, out.messages.length);
          }
        },
      }),
    });
  }

  #admin: ReturnType<KafkaClient['admin']> | undefined;
  #kafkaAdmin() {
    this.#admin ??= this.#kafka.admin();
    return this.#admin;
  }

  /** The consumer group whose committed offsets are the runners' positions. */
  get groupId(): string {
    return `zads-filter-${this.#o.name}`;
  }

  get stats(): FilterStreamStats {
    const partitions: FilterStreamStats['partitions'] = {};
    for (const p of this.#loop.lag.values()) {
      partitions[`${p.topic}/${p.partition}`] = { next: p.next.toString(), lag: p.lag.toString() };
      this.#m.lag.set({ topic: p.topic, partition: p.partition }, Number(p.lag));
    }
    return { ...structuredClone(this.#stats), topics: [...this.#loop.topics], partitions, filters: this.#judge.stats };
  }

  /** The output topics of one input topic, in filter order. */
  outputTopics(input: string): string[] {
    return this.#o.ids.map((f) => outputTopic(input, this.#o.outputSuffix, f.name));
  }

  /** Called once if the runner stops on an error it cannot retry (e.g. fenced, or a judge that cannot go on). */
  onFailure(listener: (err: ZadsError) => void): void {
    this.#loop.onFailure(listener);
  }

  /** Connects, starts on the input topics there are now, and keeps looking for new ones. */
  async start(): Promise<void> {
    if (this.#started) throw new ZadsError('INTERNAL', 'filter runner already started');
    this.#started = true;
    try {
      await Promise.all([this.#kafkaAdmin().connect(), this.#positionsReader.connect(), this.#producer.ready()]);
    } catch (cause) {
      throw kafkaError(cause, { cluster: this.#o.cluster, doing: 'connect', who: `filter runner ${this.#o.name}` });
    }
    await this.#loop.start();
    if (this.#o.reportIntervalMs > 0) this.#report = setInterval(() => this.#logReport(), this.#o.reportIntervalMs);
    this.#log?.info({ topics: this.#loop.topics, groupId: this.groupId, filters: this.#o.ids.map((f) => f.name) }, 'filter runner started');
  }

  #isOutput(topic: string): boolean {
    return this.#suffixes.some((s) => topic.endsWith(s));
  }

  /** Creates each output topic with the partition count of its input (record p goes to partition p). */
  async #ensureOutputs(inputs: string[]): Promise<void> {
    if (inputs.length === 0) return;
    // On a cluster of several brokers a topic just created is not known to every broker yet: wait it out.
    const meta = await waitForLeaders(this.#loop.admin, inputs);
    const wanted = meta.flatMap((t) => this.outputTopics(t.name).map((topic) => ({ topic, partitions: t.partitions.length })));
    const have = await createTopicsIfMissing(this.#kafkaAdmin(), wanted);
    for (const w of wanted) {
      const count = have.find((t) => t.name === w.topic)?.partitions.length ?? 0;
      if (count < w.partitions) await growPartitions(this.#kafka, w.topic, w.partitions);
    }
  }

  /** Judges a chunk's records side by side (a hung async filter costs one timeout per chunk, not per record). */
  async #judgeChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<(TopicRecords & { filter: string })[]> {
    const filters = this.#o.ids;
    const passed = await Promise.all(chunk.map((m) => this.#judgeRecord(topic, partition, m)));
    const perFilter: Message[][] = filters.map(() => []);
    for (let k = 0; k < chunk.length; k++) {
      const verdict = passed[k];
      if (!verdict) continue;
      for (let i = 0; i < filters.length; i++) if (verdict[i]) perFilter[i]!.push(outputRecord(chunk[k]!, partition, filters[i]!));
    }
    return perFilter.map((messages, i) => ({ filter: filters[i]!.name, topic: outputTopic(topic, this.#o.outputSuffix, filters[i]!.name), messages }));
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
        this.#log?.warn({ err: toZadsError(err, source), undecodable: this.#stats.undecodable }, 'record does not decode: skipped (the archive quarantines it)');
      }
      return undefined;
    }
  }

  #logReport(): void {
    const stats = this.stats;
    const behind = Object.values(stats.partitions).filter((p) => p.lag !== '0').length;
    this.#log?.info({ consumed: stats.consumed, undecodable: stats.undecodable, written: stats.written, partitionsBehind: behind }, 'filter progress');
  }

  /** Stops consuming and disconnects everything; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#report) clearInterval(this.#report);
      const steps = [() => this.#loop.close(), () => this.#producer.close(), () => this.#positionsReader.disconnect(), () => this.#admin?.disconnect(), () => (this.#ownJudge ? this.#judge.close() : undefined)];
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
