import type { Admin, Consumer, KafkaMessage } from '../client.ts';
import type { InputBatch, Sink } from './consume-loop.ts';
import { stableGroupOffsets } from './group-positions.ts';
import type { TopicRecords, TransactionalProducer } from './transactional-producer.ts';

export interface KafkaSinkOptions {
  producer: TransactionalProducer;
  /** The group whose committed offsets are the input positions. */
  groupId: string;
  /** Admin of the cluster that keeps those offsets. */
  positionsAdmin: Admin;
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

/**
 * A transactional Kafka sink: each chunk of a batch becomes one transaction holding its output records
 * and the input position after it. The next chunk is transformed while the last one commits.
 */
export class KafkaSink implements Sink {
  readonly #o: KafkaSinkOptions;

  constructor(options: KafkaSinkOptions) {
    this.#o = options;
  }

  positions(partitions: { topic: string; partition: number }[]): Promise<Map<string, bigint | undefined>> {
    return stableGroupOffsets(this.#o.positionsAdmin, this.#o.groupId, partitions);
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
      const started = process.hrtime.bigint();
      await this.#o.producer.commit(outputs, {
        consumer: this.#o.offsetsConsumer ?? batch.consumer,
        topics: [{ topic, partitions: [{ partition, offset: after }] }],
      });
      done += chunk.length;
      this.#o.committed?.(topic, partition, chunk, outputs, Number(process.hrtime.bigint() - started) / 1e9);
      if (!isRunning()) break;
    }
    return done;
  }
}
