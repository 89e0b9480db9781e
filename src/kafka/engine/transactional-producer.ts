import type { Logger } from '../../log.ts';
import { ZadsError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Consumer, KafkaClient, Message, Producer, RdKafkaConfig } from '../client.ts';
import { isFenced, kafkaError } from '../errors.ts';
import { noteStuckCall } from '../stuck-calls.ts';

/** Records for one topic in a transaction. */
export interface TopicRecords {
  topic: string;
  messages: Message[];
}

/** Input positions committed with the records: the next offset to read, per partition, for `consumer`'s group. */
export interface TransactionOffsets {
  /**
   * The consumer whose group the offsets are committed for. A subscribed consumer on the same cluster
   * gives KIP-447 fencing by group generation; a connected, never-subscribed consumer on the target
   * serves offsets kept on another cluster than the input (the mirror).
   */
  consumer: Consumer;
  topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string }[] }[];
}

export interface TransactionalProducerOptions {
  kafka: KafkaClient;
  transactionalId: string;
  /** Who writes, for error messages: "mirror x", "filter runner y", "replay z". */
  who: string;
  /**
   * How long the coordinator keeps an open transaction of a process that died, in ms. Partitions taken
   * over from a killed process wait for it (read_committed positions are stable only once it ends).
   */
  transactionTimeoutMs?: number;
  logger?: Logger;
  rdkafka?: RdKafkaConfig;
}

/** Failures no retry can mend. */
const FINAL = new Set<ErrorCode>(['KAFKA_AUTH', 'KAFKA_NOT_AUTHORIZED', 'KAFKA_TLS', 'KAFKA_FENCED']);

/** The longest one transaction's send + commit may take before it counts as failed, in ms. */
const COMMIT_TIMEOUT_MS = 60_000;

/**
 * The longest adding the input offsets to a transaction is waited for, in ms. librdkafka's
 * send_offsets_to_transaction ignores its own timeout when the group coordinator goes down
 * (confluentinc/librdkafka#5456, #5511, open; we run 2.15.1): in the fail-over test it hung until the
 * whole transaction's limit, and a mirror stood still 75 s after a crash. Past this the transaction fails,
 * the abort is refused ("Conflicting send_offsets_to_transaction API call is already in progress") and
 * the producer is replaced; a new producer looks the coordinator up afresh.
 */
const SEND_OFFSETS_TIMEOUT_MS = 15_000;
/** The timeout librdkafka itself is given for send_offsets_to_transaction (the KafkaJS-style call uses 5 s), in ms. */
const SEND_OFFSETS_RDKAFKA_TIMEOUT_MS = 10_000;

/**
 * The one owner of a transactional producer's state: begin, send, add the input positions, commit — or
 * abort, or replace the producer — in one place. Mirror, filter runner and replay write through it.
 *
 * After any failure the transaction is over: aborted when librdkafka says it can be, else the producer is
 * replaced by a new one with the same transactional id, whose initialisation completes or aborts whatever
 * the coordinator still holds (so the caller can read the committed positions back and know they are final).
 * A fenced producer (a newer process took the id or the group generation) throws KAFKA_FENCED and is not
 * replaced: the caller must stop.
 */
export class TransactionalProducer {
  readonly #o: TransactionalProducerOptions;
  #producer: Producer;
  #ready: Promise<Producer> | undefined;
  #closed = false;

  constructor(options: TransactionalProducerOptions) {
    this.#o = options;
    this.#producer = this.#create();
  }

  #create(): Producer {
    return this.#o.kafka.producer({
      transactionalId: this.#o.transactionalId,
      transactionTimeoutMs: this.#o.transactionTimeoutMs ?? 10_000,
      lingerMs: 5,
      rdkafka: this.#o.rdkafka,
    });
  }

  /** Connects and initialises the transactional id (which fences an older producer with the same id). */
  ready(): Promise<Producer> {
    if (this.#closed) return Promise.reject(new ZadsError('CLOSED', `${this.#o.who}: transactional producer used after close`));
    if (!this.#ready) {
      const producer = this.#producer;
      const ready = producer.connect().then(
        () => producer,
        async (err: unknown) => {
          // A producer whose connect failed (initialising the transactional id timed out while a crashed
          // broker's coordinator role was moving) answers every later connect with "Connect has already been
          // called elsewhere": the fail-over test's mirror retried that for minutes. The next try gets a new one.
          await this.#replace();
          throw kafkaError(err, { cluster: this.#o.kafka.cluster, doing: 'connect the transactional producer', who: this.#o.who });
        },
      );
      this.#ready = ready;
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  /**
   * Sends the records and the offsets in one transaction and commits it. Throws a ZadsError: KAFKA_FENCED
   * (stop), or a retriable one after which nothing of this transaction is visible to read_committed readers
   * — unless the commit itself reached the coordinator before the failure, which only the committed
   * positions tell: read them back before retrying.
   */
  async commit(records: TopicRecords[], offsets?: TransactionOffsets): Promise<void> {
    const producer = await this.ready();
    let stage = 'begin a transaction';
    let sends: Promise<unknown>[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      // Every step of librdkafka's has its own timeout, but a transaction as a whole has none: a mirror and a
      // filter runner in the fail-over test once waited for minutes after a broker crash with no step failing.
      // Past COMMIT_TIMEOUT_MS the transaction counts as failed and is aborted (or the producer replaced).
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ZadsError('KAFKA_TIMEOUT', `${this.#o.who}: a transaction did not finish in ${COMMIT_TIMEOUT_MS / 1000} s (at: ${stage})`, { retriable: true })), COMMIT_TIMEOUT_MS);
      });
      const step = <T>(p: Promise<T>) => Promise.race([p, expired]);
      await step(producer.transaction());
      stage = 'send records in a transaction';
      sends = records.filter((r) => r.messages.length > 0).map((r) => producer.send({ topic: r.topic, messages: r.messages }));
      await step(Promise.all(sends));
      if (offsets) {
        stage = 'add the input offsets to the transaction';
        await step(within(this.#sendOffsets(producer, offsets), SEND_OFFSETS_TIMEOUT_MS, 'add the input offsets to the transaction', this.#o.who));
      }
      stage = 'commit the transaction';
      await step(producer.commit());
    } catch (err) {
      clearTimeout(timer);
      const topic = records.find((r) => r.messages.length > 0)?.topic;
      const error = kafkaError(err, { cluster: this.#o.kafka.cluster, doing: stage, who: this.#o.who, ...(topic ? { topic } : {}) });
      if (isFenced(err)) {
        await settled(sends);
        throw error;
      }
      await this.#recover(producer, sends);
      // Refused logins and ACLs stay refused: say so and stop. Anything else ended with the transaction
      // aborted (or the producer replaced), so the caller may go back to its committed position and retry.
      if (FINAL.has(error.code)) throw error;
      throw error.retriable ? error : new ZadsError(error.code, error.message, { cause: err, context: error.context, retriable: true });
    }
    clearTimeout(timer);
  }

  async #sendOffsets(producer: Producer, offsets: TransactionOffsets): Promise<void> {
    const withMetadata = offsets.topics.some((t) => t.partitions.some((p) => p.metadata !== undefined));
    if (!withMetadata) {
      await producer.sendOffsets({ consumer: offsets.consumer, topics: offsets.topics });
      return;
    }
    // The KafkaJS-style sendOffsets drops offset metadata (a replay's checkpoint rides in it); librdkafka's
    // own call keeps it.
    const internal = (producer as unknown as { _getInternalClient(): RawProducer })._getInternalClient();
    const consumer = (offsets.consumer as unknown as { _getInternalClient(): unknown })._getInternalClient();
    const flat = offsets.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset), metadata: p.metadata })));
    await new Promise<void>((resolve, reject) => internal.sendOffsetsToTransaction(flat, consumer, SEND_OFFSETS_RDKAFKA_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Ends a failed transaction: abort it (librdkafka purges what it had not sent yet), and only if that fails
   * replace the producer. Either way every send of the transaction has settled before the producer is
   * used again or dropped: a producer disconnected while delivery reports were still due took the
   * process down (SIGSEGV in the fail-over test).
   */
  async #recover(producer: Producer, sends: Promise<unknown>[]): Promise<void> {
    let aborted = false;
    this.#o.logger?.info('transaction failed: aborting it');
    try {
      // librdkafka gives up an abort after 5 s, but only once the call has a thread to run on: bounded here too.
      await within(producer.abort(), RECOVER_STEP_TIMEOUT_MS, 'abort the failed transaction', this.#o.who);
      aborted = true;
    } catch (err) {
      this.#o.logger?.warn({ err }, 'abort after a failed transaction failed: replacing the producer');
    }
    await settled(sends);
    if (!aborted) await this.#replace();
    this.#o.logger?.info({ replaced: !aborted }, 'failed transaction ended');
  }

  async #replace(): Promise<void> {
    const old = this.#producer;
    // The old one goes first: two producers of one transactional id in one process fence each other.
    await within(old.disconnect(), RECOVER_STEP_TIMEOUT_MS, 'disconnect the failed producer', this.#o.who).catch((err: unknown) => this.#o.logger?.warn({ err }, 'disconnecting the failed producer failed'));
    this.#producer = this.#create();
    this.#ready = undefined;
  }

  /** Disconnects; an open transaction is aborted by the coordinator. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await within(this.#producer.disconnect(), RECOVER_STEP_TIMEOUT_MS, 'disconnect the producer', this.#o.who).catch((err: unknown) => this.#o.logger?.warn({ err }, 'disconnecting the producer at close failed'));
  }
}

/** The longest the abort or the disconnect of a failed producer is waited for, in ms. */
const RECOVER_STEP_TIMEOUT_MS = 15_000;

/**
 * `p`, or a KAFKA_TIMEOUT once `ms` have passed without it settling; the librdkafka call behind `p` is then
 * recorded as stuck (it still holds a thread-pool thread: stuck-calls.ts).
 */
async function within<T>(p: Promise<T>, ms: number, doing: string, who: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          noteStuckCall(`${who}: ${doing}`);
          reject(new ZadsError('KAFKA_TIMEOUT', `could not ${doing} within ${ms / 1000} s`, { retriable: true }));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until every send has resolved or rejected, up to the longest a transaction may take. */
async function settled(sends: Promise<unknown>[]): Promise<void> {
  if (sends.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(sends), new Promise((resolve) => (timer = setTimeout(resolve, COMMIT_TIMEOUT_MS)))]);
  clearTimeout(timer);
}

interface RawProducer {
  sendOffsetsToTransaction(offsets: unknown[], consumer: unknown, timeoutMs: number, cb: (err: unknown) => void): void;
}
