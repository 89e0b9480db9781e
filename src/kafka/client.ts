import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, AdminConfig, Consumer, ConsumerConfig, KafkaConfig, LogEntry, Producer, ProducerConfig, RetryOptions, SASLOptions } from 'kafkajs';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { checkTls, kafkaSecurityError } from './security.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own log lines into our structured logger, under component "kafkajs". */
function logCreatorFor(logger: Logger): KafkaConfig['logCreator'] {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      // Right after a transaction commits, the coordinator answers CONCURRENT_TRANSACTIONS until its
      // markers are written; kafkajs logs each such answer as an error although it retries them.
      const retried = [extra.error, message].some((t) => typeof t === 'string' && t.includes('concurrent operation on the same transaction'));
      // A refused SASL login reaches the caller as KAFKA_AUTH, which says whom and what to check; kafkajs's
      // own three error lines about it would only repeat the broker's reason around that message.
      const refused = typeof message === 'string' && (message.startsWith('Response SaslAuthenticate') || /^SASL .*authentication failed/.test(message));
      child[retried || refused ? 'debug' : (LEVELS[level] ?? 'info')](extra, message);
    };
}

/** The kafkajs configuration of one cluster from our typed config (TLS and SASL included). */
export function kafkaConfig(cluster: ClusterConfig, logger?: Logger, clientIdSuffix?: string): KafkaConfig {
  const config: KafkaConfig = {
    clientId: clientIdSuffix ? `${cluster.clientId}-${clientIdSuffix}` : cluster.clientId,
    brokers: cluster.brokers,
    connectionTimeout: cluster.connectionTimeoutMs,
    requestTimeout: cluster.requestTimeoutMs,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 30_000 },
    logLevel: logger ? logLevel.INFO : logLevel.NOTHING,
  };
  if (logger) config.logCreator = logCreatorFor(logger);
  if (cluster.tls) {
    config.ssl = {
      rejectUnauthorized: cluster.tls.rejectUnauthorized,
      ...(cluster.tls.caFile ? { ca: [readCaFile(cluster.tls.caFile)] } : {}),
    };
  }
  if (cluster.sasl) {
    config.sasl = { ...cluster.sasl } as SASLOptions;
  }
  return config;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', `cannot read the Kafka CA file tls.caFile ${path}: ${(cause as Error).message}`, {
      cause,
      context: { key: 'tls.caFile', file: path },
    });
  }
}

/**
 * kafkajs's client, whose producers, consumers and admins check TLS trust once before their first
 * connection and report a refused SASL login or an untrusted certificate as KAFKA_AUTH / KAFKA_TLS
 * (fatal, with what to check) instead of retrying it.
 */
class ZadsKafka extends Kafka {
  readonly #cluster: ClusterConfig;
  readonly #ssl: ConnectionOptions | undefined;
  #trusted: Promise<void> | undefined;

  constructor(cluster: ClusterConfig, config: KafkaConfig) {
    super(config);
    this.#cluster = cluster;
    this.#ssl = typeof config.ssl === 'object' ? config.ssl : undefined;
  }

  override producer(config?: ProducerConfig): Producer {
    return this.#checked(super.producer(config));
  }

  override consumer(config: ConsumerConfig): Consumer {
    return this.#checked(super.consumer(config));
  }

  override admin(config?: AdminConfig): Admin {
    return this.#checked(super.admin(config));
  }

  #checkTls(): Promise<void> {
    if (!this.#ssl || this.#ssl.rejectUnauthorized === false) return Promise.resolve();
    // Only a successful handshake is kept: after a refusal or no answer, the next connect checks again.
    this.#trusted ??= checkTls(this.#cluster, this.#ssl).then(
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
        throw kafkaSecurityError(err, this.#cluster) ?? err;
      }
    };
    return client;
  }
}

/** A kafkajs client for one cluster; `retry` overrides the default connection retries. */
export function createKafka(cluster: ClusterConfig, logger?: Logger, clientIdSuffix?: string, retry?: RetryOptions): Kafka {
  const config = kafkaConfig(cluster, logger, clientIdSuffix);
  return new ZadsKafka(cluster, retry ? { ...config, retry: { ...config.retry, ...retry } } : config);
}
