import { ZadsError } from '../errors.ts';

/*
 * Kafka's ACL refusals, from either client: kafkajs (KafkaJSProtocolError, `type` "TOPIC_AUTHORIZATION_FAILED",
 * `code` 29, often wrapped in NonRetriable / NumberOfRetriesExceeded / AggregateError or in our own
 * ZadsError) and @confluentinc/kafka-javascript (KafkaJSError with librdkafka's `code` 29 and `type`
 * "ERR_TOPIC_AUTHORIZATION_FAILED", message "Broker: Topic authorization failed").
 */

/** Kafka protocol error codes of ACL refusals (librdkafka uses the same numbers), and what was refused. */
const AUTHZ_CODES: Readonly<Record<number, string>> = {
  29: 'topic',
  30: 'consumer group',
  31: 'cluster',
  53: 'transactional id',
};

const AUTHZ_TYPES: Readonly<Record<string, string>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'consumer group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
};

const AUTHZ_MESSAGE = /\b(Topic|Group|Cluster|Transactional ?Id) authorization failed/i;

interface Found {
  what: string;
  message: string;
}

function refusal(e: unknown): Found | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const { type, code, name, message } = e as { type?: unknown; code?: unknown; name?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (typeof type === 'string') {
    const what = AUTHZ_TYPES[type.replace(/^ERR_/, '')];
    if (what) return { what, message: text };
  }
  const kafkaError = typeof name === 'string' && (name.startsWith('KafkaJS') || name === 'LibrdKafkaError');
  if (typeof code === 'number' && AUTHZ_CODES[code] && (kafkaError || AUTHZ_MESSAGE.test(text))) return { what: AUTHZ_CODES[code]!, message: text };
  const m = AUTHZ_MESSAGE.exec(text);
  if (m) return { what: m[1]!.toLowerCase().replace('transactionalid', 'transactional id'), message: text };
  return undefined;
}

/** The error and everything it wraps (cause, originalError, errors of an aggregate), breadth first, bounded. */
function wrapped(err: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 32) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || out.includes(e)) continue;
    out.push(e);
    const { cause, originalError, errors } = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    queue.push(cause, originalError);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return out;
}

/** Whether an error (or one it wraps) is a Kafka ACL refusal. */
export function isKafkaAuthorizationError(err: unknown): boolean {
  return wrapped(err).some((e) => refusal(e) !== undefined);
}

/**
 * A Kafka ACL refusal as KAFKA_NOT_AUTHORIZED, saying what was refused, to whom and what to check;
 * undefined for any other error (the caller goes on as before).
 */
export function kafkaAuthorizationError(err: unknown, context: { topic?: string; user?: string; brokers?: readonly string[] } = {}): ZadsError | undefined {
  if (err instanceof ZadsError && err.code === 'KAFKA_NOT_AUTHORIZED') return err;
  const found = wrapped(err).map(refusal).find((f) => f !== undefined);
  if (!found) return undefined;
  const principal = context.user === undefined ? 'our Kafka principal' : `Kafka principal User:${context.user}`;
  const on = found.what === 'topic' && context.topic !== undefined ? ` topic ${context.topic}` : ` ${found.what}`;
  return new ZadsError(
    'KAFKA_NOT_AUTHORIZED',
    `Kafka refused ${principal} on${on}${context.brokers ? ` at ${context.brokers.join(',')}` : ''}: ${found.message || `${found.what} authorization failed`}. ` +
      'The brokers\' ACLs do not allow it: check the ACLs of this user (kafka-acls --list --principal …), or the target if it is one this user must not write.',
    { cause: err, context: { topic: context.topic, user: context.user, refused: found.what } },
  );
}
