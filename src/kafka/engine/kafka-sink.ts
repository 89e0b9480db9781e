import type { Consumer, KafkaMessage } from '../client.ts';
import type { InputBatch, Sink } from './consume-loop.ts';
import { stableGroupOffsets } from './group-positions.ts';
import type { TopicRecords, TransactionalProducer } from './transactional-producer.ts';

export interface KafkaSinkOptions {
  producer: TransactionalProducer;
  /** The group whose committed offsets are the input positions. */
  groupId: string;
  /** A consumer of that group on the cluster that keeps those offsets, connected and never subscribed: it reads them. */
  positionsReader: Consumer;
  /**
   * The consumer the offsets are committed for. Leave out when the offsets live on the input cluster: each
   * batch's own (subscribed) consumer is used, and the broker fences a zombie by group generation
   * (KIP-447). The mirror keeps them on the target, for a connected, never-subscribed consumer there.
   */
  offsetsConsumer?: Consumer;
  /** The output records of some input messages of one partition (may be none). */
  transform: (topic: string, partition: number, messages: KafkaMessage[]) => TopicRecords[] | Promise<TopicRecords[]>;
  /** Most input bytes in one transaction. */
  maxTransactionBytes: number;
  /** Told after each committed transaction. */
  committed?: (topic: string, partition: number, inputs: KafkaMessage[], outputs: TopicRecords[], seconds: number) => void;
}

/** Splits a batch into runs of at most `maxBytes` of values (at least one message each). */
function chunks(messages: KafkaMessage[], maxBytes: number): KafkaMessage[][] {
  const out: KafkaMessage[][] = [];
  let chunk: KafkaMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value?.length ?? 0;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

interface Pending {
  topic: string;
  partition: number;
  inputs: KafkaMessage[];
  outputs: TopicRecords[];
  /** The input offset after the chunk. */
  after: string;
  consumer: Consumer;
  done: () => void;
  failed: (err: unknown) => void;
}

/**
 * A transactional Kafka sink: each chunk of a batch, with the chunks other partitions hand in meanwhile,
 * becomes part of one transaction holding their output records and the input position after each (group
 * commit: the loop consumes several partitions side by side, and one commit serves them all). A chunk is
 * transformed while the transaction before it commits.
 */
export class KafkaSink implements Sink {
  readonly #o: KafkaSinkOptions;
  #queue: Pending[] = [];
  #committing = false;

  constructor(options: KafkaSinkOptions) {
    this.#o = options;
  }

  positions(partitions: { topic: string; partition: number }[]): Promise<Map<string, bigint | undefined>> {
    return stableGroupOffsets(this.#o.positionsReader, this.#o.groupId, partitions);
  }

  async write(batch: InputBatch, isRunning: () => boolean): Promise<number> {
    const { topic, partition } = batch;
    const parts = chunks(batch.messages, this.#o.maxTransactionBytes);
    let done = 0;
    let prepared: Promise<TopicRecords[]> | undefined = Promise.resolve(this.#o.transform(topic, partition, parts[0]!));
    for (let i = 0; i < parts.length; i++) {
      const chunk = parts[i]!;
      const outputs = await prepared!;
      prepared = i + 1 < parts.length ? Promise.resolve(this.#o.transform(topic, partition, parts[i + 1]!)) : undefined;
      // A transform that fails for the next chunk is seen when that chunk's turn comes.
      prepared?.catch(() => undefined);
      const after = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString();
      await new Promise<void>((resolve, reject) => {
        this.#queue.push({ topic, partition, inputs: chunk, outputs, after, consumer: this.#o.offsetsConsumer ?? batch.consumer, done: resolve, failed: reject });
        void this.#drain();
      });
      done += chunk.length;
      if (!isRunning()) break;
    }
    return done;
  }

  /** Commits what is queued, in transactions of at most maxTransactionBytes of input (or one chunk), until the queue is empty. */
  async #drain(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    try {
      while (this.#queue.length > 0) {
        const group: Pending[] = [];
        let bytes = 0;
        while (this.#queue.length > 0) {
          const next = this.#queue[0]!;
          const size = next.inputs.reduce((n, m) => n + (m.value?.length ?? 0), 0);
          if (group.length > 0 && (bytes + size > this.#o.maxTransactionBytes || next.consumer !== group[0]!.consumer)) break;
          group.push(this.#queue.shift()!);
          bytes += size;
        }
        const records = new Map<string, TopicRecords>();
        for (const p of group) {
          for (const out of p.outputs) {
            const r = records.get(out.topic) ?? { topic: out.topic, messages: [] };
            r.messages.push(...out.messages);
            records.set(out.topic, r);
          }
        }
        const offsets = new Map<string, { partition: number; offset: string }[]>();
        for (const p of group) offsets.set(p.topic, [...(offsets.get(p.topic) ?? []), { partition: p.partition, offset: p.after }]);
        const started = process.hrtime.bigint();
        try {
          await this.#o.producer.commit([...records.values()], { consumer: group[0]!.consumer, topics: [...offsets].map(([topic, partitions]) => ({ topic, partitions })) });
        } catch (err) {
          for (const p of group) p.failed(err);
          continue;
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        for (const p of group) {
          this.#o.committed?.(p.topic, p.partition, p.inputs, p.outputs, seconds / group.length);
          p.done();
        }
      }
    } finally {
      this.#committing = false;
    }
  }
}
