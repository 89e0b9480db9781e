import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { ZadsConfig } from './config/index.ts';
import { ZadsError } from './errors.ts';
import type { ErrorContext } from './errors.ts';

export type { Logger };

/** What the logger takes from the config: its `log` section (ZADS_LOG_LEVEL sets `log.level`). */
export type LogConfig = ZadsConfig['log'];

/** An error as every log line shows it, under `err`. */
export interface LoggedError {
  /** The error's class: ZadsError, TypeError, KafkaJSError, … ("string" and the like for a thrown non-error). */
  type: string;
  /** The ZadsError code; for another error its own code when it has one (an errno such as ENOENT, librdkafka's number). */
  code?: string | number;
  message: string;
  /** Whether a retry can help: the ZadsError's flag; for another error its own flag, else false (unknown errors are fatal). */
  retriable: boolean;
  /** Where the data involved lives (ZadsErrors). */
  context?: ErrorContext;
  /** Where it was thrown, when the code does not say what happened: INTERNAL, and errors that are not ZadsErrors. */
  stack?: string;
  /** What it wraps, down the chain. */
  cause?: LoggedError;
  /** The errors of an AggregateError. */
  errors?: LoggedError[];
}

/** Causes and aggregated errors shown at most, so a cyclic or deep chain cannot blow up a log line. */
const MAX_NESTED = 8;

/**
 * The one way an error is logged: `logger.warn({ err }, '…')` with whatever was thrown, never its message,
 * `toJSON()` or `describe()` — the code, message, retriable flag, context and cause chain come out the same
 * in every line.
 */
export function serializeError(err: unknown, depth = 0): LoggedError {
  if (!(err instanceof Error)) return { type: err === null ? 'null' : typeof err, message: String(err), retriable: false };
  const nested = (e: unknown) => (depth < MAX_NESTED && e !== undefined && e !== err ? serializeError(e, depth + 1) : undefined);
  const out: LoggedError =
    err instanceof ZadsError
      ? { type: err.name, code: err.code, message: err.message, retriable: err.retriable, context: err.context }
      : { type: err.name, ...ownCode(err), message: err.message, retriable: (err as { retriable?: unknown }).retriable === true };
  if ((!(err instanceof ZadsError) || err.code === 'INTERNAL') && err.stack) out.stack = err.stack;
  const cause = nested(err.cause);
  if (cause) out.cause = cause;
  if (err instanceof AggregateError && depth < MAX_NESTED) out.errors = err.errors.slice(0, MAX_NESTED).map((e: unknown) => serializeError(e, depth + 1));
  return out;
}

function ownCode(err: Error): { code?: string | number } {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? { code } : {};
}

/**
 * The root logger: JSON lines on stderr (stdout belongs to command output such as `inspect --json`), errors
 * under `err` as {@link serializeError} shows them. Components take a child with their name:
 * `rootLogger.child({ component: 'mirror' })`.
 */
export function createLogger(config: LogConfig, destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ level: config.level, base: { service: 'zads' }, serializers: { err: serializeError } }, destination);
}
