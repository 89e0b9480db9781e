import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as CKJS from '@confluentinc/kafka-javascript';
import type { IAdminClient, KafkaJS } from '@confluentinc/kafka-javascript';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { kafkaError, noteAuthFailure, noteTransactionFailure } from './errors.ts';
import { checkTls } from './security.ts';

// The package is CommonJS with a native addon; createRequire loads it the same way under tsx and node.
const ckjs = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as typeof CKJS;

export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type Admin = KafkaJS.Admin;
export type KafkaMessage = KafkaJS.KafkaMessage;
export type Message = KafkaJS.Message;
export type EachBatchPayload = KafkaJS.EachBatchPayload;
export type TopicPartitionOffset = KafkaJS.TopicPartitionOffset;
export type RdKafkaConfig = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

/** What our producers may ask for; everything else is librdkafka's defaults or `rdkafka`. */
export interface ProducerOptions {
  /** Makes the producer transactional (implies idempotent). */
  transactionalId?: string;
  /** Idempotent delivery (acks=all, no duplicates on retry); default true. */
  idempotent?: boolean;
  /** How long a transaction may stay open before the coordinator aborts it, in ms (librdkafka default 60,000). */
  transactionTimeoutMs?: number;
  /** Time librdkafka waits to fill a batch, in ms (librdkafka default 5). */
  lingerMs?: number;
  /** Extra librdkafka properties (CONFIGURATION.md), e.g. { 'batch.size': 4_000_000 }. */
  rdkafka?: RdKafkaConfig;
}

/** What our consumers may ask for. */
export interface ConsumerOptions {
  groupId: string;
  /** Start at the earliest offset when the group has none; default true (a night is read whole). */
  fromBeginning?: boolean;
  /** Read records of open or aborted transactions; default false (read_committed). */
  readUncommitted?: boolean;
  /** Most bytes fetched per partition in one request (librdkafka grows it for a larger record). */
  maxBytesPerPartition?: number;
  /** Longest time the broker holds a fetch waiting for data, in ms (default 100). */
  maxWaitTimeInMs?: number;
  /** Session timeout of the group member, in ms (default 10,000). */
  sessionTimeoutMs?: number;
  /**
   * Static group membership (KIP-345): a member that restarts with the same id within the session
   * timeout gets its partitions back at once, with no rebalance and no wait for the dead member's session.
   */
  groupInstanceId?: string;
  /** Most messages of one partition handed to eachBatch at a time (default 500). */
  maxBatchSize?: number;
  /**
   * Called on every assignment and revocation. On assignment it may return the assignment with the
   * offset each partition must start at (positions kept outside the source group, e.g. the mirror's on
   * the target cluster); undefined keeps the group's committed offsets.
   */
  rebalance?: (event: 'assign' | 'revoke', partitions: { topic: string; partition: number }[]) => Promise<TopicPartitionOffset[] | undefined>;
  rdkafka?: RdKafkaConfig;
}

/**
 * Routes the client's log lines into our structured logger (component "kafka"), and remembers a refused SASL
 * login: librdkafka reports it only in an error event of the connection that failed, while the call that
 * waited for a broker ends in a plain transport failure (errors.ts turns the two into KAFKA_AUTH).
 */
function loggerFor(cluster: ClusterConfig, logger: Logger | undefined): KafkaJS.Logger {
  const child = logger?.child({ component: 'kafka' });
  let level: number = ckjs.KafkaJS.logLevel.INFO;
  const at =
    (name: 'error' | 'warn' | 'info' | 'debug', n: number) =>
    (message: string, extra?: object): void => {
      const text = `${message} ${JSON.stringify(extra ?? {})}`;
      const sasl = /SASL authentication error: (.*)$/.exec(message)?.[1]?.replace(/ \(after \d+ms in state .*$/, '');
      if (sasl) noteAuthFailure(cluster, sasl);
      // "Current transaction failed in state InTransaction: … Broker: Topic authorization failed (after 1 ms) (TOPIC_AUTHORIZATION_FAILED)"
      const txn = /Current transaction failed in state \w+: (.*?)(?: \(after \d+ms\))? \(([A-Z_]+)\)$/.exec(message);
      if (txn) noteTransactionFailure(cluster, txn[2]!, txn[1]!);
      if (!child || level < n) return;
      // A refused SASL login and an untrusted certificate reach the caller as KAFKA_AUTH / KAFKA_TLS, which say
      // whom and what to check; librdkafka's own lines about them would only repeat the broker's reason.
      const security = /SASL authentication|authentication fail|SSL handshake failed|certificate verify failed/i.test(text);
      // The client reconnects by itself; our callers say so when it matters (a call that times out).
      const transient = name === 'error' && /all broker connections are down/i.test(text);
      child[security ? 'debug' : transient ? 'warn' : name](extra ?? {}, message);
    };
  const self = {
    error: at('error', 1),
    warn: at('warn', 2),
    info: at('info', 3),
    debug: at('debug', 4),
    namespace: () => self,
    setLogLevel: (l: number) => {
      level = l;
    },
  };
  return self as unknown as KafkaJS.Logger;
}

/**
 * One cluster's client factory. Every producer, consumer and admin it makes checks TLS trust once before
 * its first connection (security.ts says why), and turns a connect failure into a ZadsError that says what
 * to check (KAFKA_AUTH, KAFKA_TLS, SERVICE_UNAVAILABLE).
 */
export class KafkaClient {
  readonly cluster: ClusterConfig;
  readonly #kafka: KafkaJS.Kafka;
  readonly #common: RdKafkaConfig;
  #trusted: Promise<void> | undefined;

  constructor(cluster: ClusterConfig, logger?: Logger, clientIdSuffix?: string) {
    this.cluster = cluster;
    const kafkaJS: KafkaJS.KafkaConfig = {
      brokers: cluster.brokers,
      clientId: clientIdSuffix ? `${cluster.clientId}-${clientIdSuffix}` : cluster.clientId,
      connectionTimeout: cluster.connectionTimeoutMs,
      requestTimeout: cluster.requestTimeoutMs,
      // Always our logger (it notices refused logins); lines reach the log only when there is one.
      logLevel: logger ? ckjs.KafkaJS.logLevel.INFO : ckjs.KafkaJS.logLevel.ERROR,
      logger: loggerFor(cluster, logger),
      ...(cluster.tls ? { ssl: true } : {}),
      ...(cluster.sasl ? { sasl: { ...cluster.sasl } as KafkaJS.SASLOptions } : {}),
    };
    this.#common = {
      // A broker that goes away is looked for again quickly, not after librdkafka's 1 s → 10 s backoff.
      'reconnect.backoff.ms': 50,
      'reconnect.backoff.max.ms': 2000,
      ...(cluster.tls?.caFile ? { 'ssl.ca.location': cluster.tls.caFile } : {}),
      ...(cluster.tls && !cluster.tls.rejectUnauthorized ? { 'enable.ssl.certificate.verification': false } : {}),
    };
    this.#kafka = new ckjs.KafkaJS.Kafka({ kafkaJS, ...this.#common } as KafkaJS.CommonConstructorConfig);
  }

  producer(o: ProducerOptions = {}): Producer {
    const transactional = o.transactionalId !== undefined;
    const config: Record<string, unknown> = {
      kafkaJS: {
        idempotent: transactional || (o.idempotent ?? true),
        ...(transactional ? { transactionalId: o.transactionalId } : {}),
        ...(o.transactionTimeoutMs ? { transactionTimeout: o.transactionTimeoutMs } : {}),
        acks: -1,
      },
      'linger.ms': o.lingerMs ?? 5,
      // ZTF alerts are ~70 KB: batches of a few MB per partition keep the produce requests few.
      'batch.size': 8 * 1024 * 1024,
      'message.max.bytes': 16 * 1024 * 1024,
      // We create every topic we write, with its partitions and configs; a producer that still knows a topic
      // deleted upstream must not bring it back through the broker's auto-creation.
      'allow.auto.create.topics': false,
      ...o.rdkafka,
    };
    return this.#checked(this.#kafka.producer(config as KafkaJS.ProducerConstructorConfig));
  }

  consumer(o: ConsumerOptions): Consumer {
    const config: Record<string, unknown> = {
      kafkaJS: {
        groupId: o.groupId,
        fromBeginning: o.fromBeginning ?? true,
        autoCommit: false,
        readUncommitted: o.readUncommitted ?? false,
        maxWaitTimeInMs: o.maxWaitTimeInMs ?? 100,
        sessionTimeout: o.sessionTimeoutMs ?? 10_000,
        ...(o.maxBytesPerPartition ? { maxBytesPerPartition: o.maxBytesPerPartition } : {}),
      },
      'js.consumer.max.batch.size': o.maxBatchSize ?? 500,
      'fetch.max.bytes': 64 * 1024 * 1024,
      // librdkafka stops fetching a partition while its local queue is over the limit and, by default, looks
      // again only a second later (fetch.queue.backoff.ms 1000): a consumer that drains its queue quickly then
      // sits idle. Measured on a 10,000-alert topic: 3,000–6,800 messages/s with the default, ~20,000/s at 20 ms.
      'fetch.queue.backoff.ms': 20,
      // What librdkafka prefetches (32 MiB) bounds the consumer's memory beside the batch being written.
      'queued.max.messages.kbytes': 32 * 1024,
      'enable.partition.eof': false,
      'allow.auto.create.topics': false,
      // A topic subscribed to just after it was created (the archiver finding the mirror's new night on a
      // 3-broker cluster) can come back from the group's first metadata with no partitions yet: the group then
      // assigns nothing until the next refresh, 5 minutes by default (seen in the fail-over test). Every 10 s
      // instead, which also finds partitions added later; a metadata request is cheap.
      'topic.metadata.refresh.interval.ms': 10_000,
      ...(o.groupInstanceId ? { 'group.instance.id': o.groupInstanceId } : {}),
      ...o.rdkafka,
    };
    if (o.rebalance) {
      const rebalance = o.rebalance;
      config.rebalance_cb = async (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
        const assign = err.code === ckjs.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
        const parts = assignment.map(({ topic, partition }) => ({ topic, partition }));
        const alternate = await rebalance(assign ? 'assign' : 'revoke', parts);
        return assign && alternate ? alternate.map((p) => ({ topic: p.topic, partition: p.partition, offset: Number(p.offset) })) : undefined;
      };
    }
    return this.#checked(this.#kafka.consumer(config as KafkaJS.ConsumerConstructorConfig));
  }

  admin(): Admin {
    return this.#checked(this.#kafka.admin());
  }

  /** librdkafka's own admin client (createPartitions, which the KafkaJS-style admin lacks); connected, caller disconnects. */
  rawAdmin(): IAdminClient {
    const kafkaJSish: Record<string, unknown> = {
      'bootstrap.servers': this.cluster.brokers.join(','),
      'client.id': `${this.cluster.clientId}-admin`,
      ...this.#common,
    };
    if (this.cluster.sasl) {
      kafkaJSish['security.protocol'] = this.cluster.tls ? 'sasl_ssl' : 'sasl_plaintext';
      kafkaJSish['sasl.mechanisms'] = this.cluster.sasl.mechanism.toUpperCase();
      kafkaJSish['sasl.username'] = this.cluster.sasl.username;
      kafkaJSish['sasl.password'] = this.cluster.sasl.password;
    } else if (this.cluster.tls) {
      kafkaJSish['security.protocol'] = 'ssl';
    }
    return ckjs.AdminClient.create(kafkaJSish as never);
  }

  /**
   * A transactional producer refused at login fails with a bare "authentication failure"; the broker's reason
   * reaches only the log of a client that asks a broker something. One short metadata request lets the log
   * hook hear it, so the error can say what the broker said.
   */
  async #hearAuthFailure(): Promise<void> {
    if (!this.cluster.sasl) return;
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics({ timeout: 5000 });
    } catch {
      // Expected: the login is refused again, and the log hook notes why.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  #checkTls(): Promise<void> {
    const tls = this.cluster.tls;
    if (!tls || tls.rejectUnauthorized === false) return Promise.resolve();
    // Only a successful handshake is kept: after a refusal or no answer, the next connect checks again.
    this.#trusted ??= checkTls(this.cluster, { rejectUnauthorized: true, ...(tls.caFile ? { ca: [readCa(tls.caFile)] } : {}) }).then(
      (verdict) => {
        if (verdict !== 'trusted') this.#trusted = undefined;
      },
      (err: unknown) => {
        this.#trusted = undefined;
        throw err;
      },
    );
    return this.#trusted;
  }

  #checked<T extends Producer | Consumer | Admin>(client: T): T {
    const connect = client.connect.bind(client);
    client.connect = async () => {
      await this.#checkTls();
      try {
        await connect();
      } catch (err) {
        if (/authentication/i.test((err as Error)?.message ?? '')) await this.#hearAuthFailure();
        throw kafkaError(err, { cluster: this.cluster, doing: 'connect' });
      }
    };
    return client;
  }
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', `cannot read the Kafka CA file tls.caFile ${path}: ${(cause as Error).message}`, {
      cause,
      context: { key: 'tls.caFile', file: path },
    });
  }
}

/** A client for one cluster. */
export function createKafka(cluster: ClusterConfig, logger?: Logger, clientIdSuffix?: string): KafkaClient {
  return new KafkaClient(cluster, logger, clientIdSuffix);
}

/** The librdkafka error codes, by name (ERR__TIMED_OUT, ERR_PRODUCER_FENCED, …). */
export const RDKAFKA_CODES = ckjs.CODES.ERRORS as Record<string, number>;
