import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import type { ClusterConfig } from '../config/index.ts';
import type { Logger } from '../log.ts';

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
      child[retried ? 'debug' : (LEVELS[level] ?? 'info')](extra, message);
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
      ...(cluster.tls.caFile ? { ca: [readFileSync(cluster.tls.caFile, 'utf8')] } : {}),
    };
  }
  if (cluster.sasl) {
    config.sasl = { ...cluster.sasl } as SASLOptions;
  }
  return config;
}

/** A kafkajs client for one cluster. */
export function createKafka(cluster: ClusterConfig, logger?: Logger, clientIdSuffix?: string): Kafka {
  return new Kafka(kafkaConfig(cluster, logger, clientIdSuffix));
}
