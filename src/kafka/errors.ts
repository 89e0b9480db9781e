import { createRequire } from 'node:module';
import type * as CKJS from '@confluentinc/kafka-javascript';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

/*
 * The one place that reads librdkafka's errors. The client reports each failure with a numeric `code`
 * (librdkafka's rd_kafka_resp_err_t: negative for the client's own, positive for the broker's) and, for a
 * transactional producer, whether it is `retriable`, `abortable` or `fatal`. Everything else in the project
 * sees a ZadsError whose code says what happened.
 */

const ckjs = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as typeof CKJS;
const E = ckjs.CODES.ERRORS as Record<string, number>;

/** Codes meaning "another process with our transactional id / group membership took over". */
const FENCED = new Set([E.ERR__FENCED, E.ERR_PRODUCER_FENCED, E.ERR_INVALID_PRODUCER_EPOCH, E.ERR_FENCED_INSTANCE_ID]);
const TIMEOUT = new Set([E.ERR__TIMED_OUT, E.ERR__TIMED_OUT_QUEUE, E.ERR_REQUEST_TIMED_OUT]);
const UNREACHABLE = new Set([E.ERR__TRANSPORT, E.ERR__ALL_BROKERS_DOWN, E.ERR__RESOLVE, E.ERR_BROKER_NOT_AVAILABLE, E.ERR_NETWORK_EXCEPTION]);
const TOPIC_MISSING = new Set([E.ERR_UNKNOWN_TOPIC_OR_PART, E.ERR__UNKNOWN_TOPIC, E.ERR__UNKNOWN_PARTITION, E.ERR_UNKNOWN_TOPIC_ID]);
const AUTHN = new Set([E.ERR__AUTHENTICATION, E.ERR_SASL_AUTHENTICATION_FAILED]);

/** The last refused SASL login per cluster (brokers + user), as librdkafka logged it. */
const authFailures = new Map<string, string>();
const clusterKey = (c: ClusterConfig) => `${c.brokers.join(',')} ${c.sasl?.username ?? ''}`;

/** Remembers the broker's reason for a refused SASL login on that cluster (client.ts hears it in the client's log). */
export function noteAuthFailure(cluster: ClusterConfig, reason: string): void {
  authFailures.set(clusterKey(cluster), reason);
}

/** The last failed transaction per cluster, as librdkafka logged it: the messages it purged say only "Purged in queue". */
const txnFailures = new Map<string, { name: string; reason: string; atMs: number }>();

/** Remembers why librdkafka failed the current transaction on that cluster (client.ts hears it in the client's log). */
export function noteTransactionFailure(cluster: ClusterConfig, name: string, reason: string): void {
  txnFailures.set(clusterKey(cluster), { name, reason, atMs: Date.now() });
}

interface RdError {
  code?: number;
  message?: string;
  retriable?: boolean;
  abortable?: boolean;
  fatal?: boolean;
  cause?: unknown;
}

/** The librdkafka code of an error (searching its causes), or undefined. */
export function rdCode(err: unknown): number | undefined {
  for (let e = err as RdError | undefined, i = 0; e && i < 6; e = e.cause as RdError | undefined, i++) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** True for an error that means we were fenced by a newer process. */
export function isFenced(err: unknown): boolean {
  return err instanceof ZadsError ? err.code === 'KAFKA_FENCED' : FENCED.has(rdCode(err) ?? 0) || (err as RdError)?.fatal === true;
}

/** True when the transaction may be aborted and tried again (librdkafka's `abortable` or `retriable`). */
export function isTransactionRetriable(err: unknown): boolean {
  if (err instanceof ZadsError) return err.retriable;
  const e = err as RdError;
  if (isFenced(err)) return false;
  return e?.abortable === true || e?.retriable === true || TIMEOUT.has(rdCode(err) ?? 0) || UNREACHABLE.has(rdCode(err) ?? 0) || rdCode(err) === E.ERR_CONCURRENT_TRANSACTIONS;
}

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
  const fromClient = typeof name === 'string' && (name.startsWith('KafkaJS') || name === 'LibrdKafkaError');
  if (typeof code === 'number' && AUTHZ_CODES[code] && (fromClient || AUTHZ_MESSAGE.test(text))) return { what: AUTHZ_CODES[code]!, message: text };
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

export interface KafkaErrorContext {
  cluster?: ClusterConfig;
  /** What we were doing, e.g. "connect", "commit the transaction", "create topic x". */
  doing: string;
  topic?: string;
  partition?: number;
  /** Who would be fenced: "mirror x", "filter runner y". */
  who?: string;
}

/**
 * A client error as a ZadsError that says what happened: fenced (fatal), timeout, broker unreachable
 * (retriable), topic missing, authentication or authorization refused (fatal, with what to check),
 * else KAFKA_FAILED with the client's reason.
 * A ZadsError passes through unchanged.
 */
export function kafkaError(err: unknown, ctx: KafkaErrorContext): ZadsError {
  if (err instanceof ZadsError) return err;
  const code = rdCode(err);
  const reason = (err as RdError)?.message ?? String(err);
  const where = ctx.cluster ? ` at Kafka ${ctx.cluster.brokers.join(',')}` : '';
  const context = { ...(ctx.topic ? { topic: ctx.topic } : {}), ...(ctx.partition !== undefined ? { partition: ctx.partition } : {}), ...(code !== undefined ? { rdkafkaCode: code } : {}) };
  const make = (c: ErrorCode, message: string, retriable?: boolean) => new ZadsError(c, message, { cause: err, context, ...(retriable === undefined ? {} : { retriable }) });
  if (code !== undefined && FENCED.has(code)) {
    return make('KAFKA_FENCED', `${ctx.who ?? 'this process'} was fenced by a newer one with the same name while trying to ${ctx.doing} (${reason}); this one stops`);
  }
  // librdkafka reports a refused SASL login on the connection that failed (ERR__AUTHENTICATION), but a
  // client waiting for a broker may only see the transport failing, with the broker's reason in the text.
  const heard =
    ctx.cluster && (code === undefined || code === -1 || UNREACHABLE.has(code) || TIMEOUT.has(code) || AUTHN.has(code)) ? authFailures.get(clusterKey(ctx.cluster)) : undefined;
  const saslReason = /SASL authentication error: (.*)$/m.exec(reason)?.[1]?.replace(/ \(after \d+ms in state .*$/, '') ?? heard;
  if ((code !== undefined && AUTHN.has(code)) || saslReason) {
    const user = ctx.cluster?.sasl?.username ?? '(none)';
    const mechanism = ctx.cluster?.sasl?.mechanism ?? '(none)';
    return make(
      'KAFKA_AUTH',
      `SASL authentication failed for user "${user}" with mechanism ${mechanism}${where}: ${saslReason ?? reason}. ` +
        `Check sasl.username, sasl.password and sasl.mechanism of this cluster in the config (clusters.ipac.sasl or clusters.uw.sasl), ` +
        `and that the brokers hold ${mechanism.toUpperCase()} credentials for "${user}" (kafka-configs.sh --alter --entity-type users --entity-name ${user} --add-config '${mechanism.toUpperCase()}=[password=…]').`,
    );
  }
  // Sends of a failed transaction end as ERR__PURGE_QUEUE / ERR__PURGE_INFLIGHT; the reason is the transaction's.
  if ((code === E.ERR__PURGE_QUEUE || code === E.ERR__PURGE_INFLIGHT) && ctx.cluster) {
    const failed = txnFailures.get(clusterKey(ctx.cluster));
    const named = failed && Date.now() - failed.atMs < 60_000 ? E[`ERR_${failed.name}`] : undefined;
    if (named !== undefined && named !== code) return kafkaError(Object.assign(new Error(failed!.reason), { code: named, cause: err }), ctx);
  }
  if (code !== undefined && AUTHZ_CODES[code] !== undefined) {
    const refused = kafkaAuthorizationError(err, { ...(ctx.topic ? { topic: ctx.topic } : {}), user: ctx.cluster?.sasl?.username, brokers: ctx.cluster?.brokers });
    if (refused) return refused;
  }
  if (code !== undefined && TOPIC_MISSING.has(code)) {
    return make('KAFKA_TOPIC_MISSING', `cannot ${ctx.doing}: topic ${ctx.topic ?? ''} does not exist${where} (${reason})`.replace('topic  does', 'the topic does'));
  }
  if (code !== undefined && TIMEOUT.has(code)) return make('KAFKA_TIMEOUT', `timed out trying to ${ctx.doing}${where} (${reason}); is the broker up and not overloaded?`);
  const at = ctx.cluster ? ` ${ctx.cluster.brokers.join(',')}` : '';
  if (code !== undefined && UNREACHABLE.has(code)) return make('SERVICE_UNAVAILABLE', `cannot reach Kafka${at} to ${ctx.doing} (${reason}); is the broker running?`);
  if (ctx.doing === 'connect') return make('SERVICE_UNAVAILABLE', `cannot connect to Kafka${at} (${reason}); is the broker running and the address right?`);
  const retriable = (err as RdError)?.retriable === true || (err as RdError)?.abortable === true;
  return make(retriable ? 'SERVICE_UNAVAILABLE' : 'KAFKA_FAILED', `Kafka failed to ${ctx.doing}${where}: ${reason}`, retriable);
}
