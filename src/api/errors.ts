import { isZadsError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * The error codes the HTTP API answers with, each with its status. Every error body is
 * `{"error": {"code", "message"}}`; the codes of the archive's own errors (ZadsError) are passed through
 * with the status `ZADS_STATUS` gives them. This file is the one place where a failure becomes a status.
 */
export const API_ERROR_STATUS = {
  /** The request is not valid HTTP/1.1 (a bad method, header or framing); node's parser refused it. */
  MALFORMED_REQUEST: 400,
  /** A path or query parameter is missing, malformed or out of range; the message names it. */
  INVALID_PARAMETER: 400,
  /** A query parameter the route does not take (a typo would otherwise be silently ignored). */
  UNKNOWN_PARAMETER: 400,
  /** The request body is not JSON or does not match the schema; the message names the field. */
  INVALID_BODY: 400,
  /** No bearer token, or one that is not configured. */
  UNAUTHORIZED: 401,
  /** The token is valid but lacks the role the route needs. */
  FORBIDDEN: 403,
  /** No such night, object, alert, cutout, file or replay. */
  NOT_FOUND: 404,
  /** No route has that path (or not with that method). */
  ROUTE_NOT_FOUND: 404,
  /** None of the representations asked for in Accept can be given. */
  NOT_ACCEPTABLE: 406,
  /** The request conflicts with the current state (a replay of that id is running). */
  CONFLICT: 409,
  /** If-Match did not match the current ETag. */
  PRECONDITION_FAILED: 412,
  /** The request did not arrive within the server's request timeout. */
  REQUEST_TIMEOUT: 408,
  /** The body is larger than api.maxBodyBytes. */
  PAYLOAD_TOO_LARGE: 413,
  /** The body is not application/json. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The byte range starts past the end of the file. */
  RANGE_NOT_SATISFIABLE: 416,
  /** Too many replays are running at once. */
  TOO_MANY_REPLAYS: 429,
  /** The request line and headers are larger than the server accepts. */
  HEADERS_TOO_LARGE: 431,
  /** The client (its token, or its address without one) made more requests than api.rateLimit allows. */
  RATE_LIMITED: 429,
  /** A bug: reported, never retried. */
  INTERNAL: 500,
  /** A service behind the API (S3, Kafka, the catalogue) could not be reached. */
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** The status of each archive error code when it reaches the API. */
const ZADS_STATUS: Record<ErrorCode, number> = {
  ALERT_NOT_CONTAINER: 500,
  ALERT_TRUNCATED: 500,
  ALERT_CORRUPT: 500,
  ALERT_NOT_ZTF: 500,
  ALERT_CODEC_UNSUPPORTED: 500,
  SCHEMA_INVALID: 500,
  SCHEMA_UNKNOWN: 500,
  SCHEMA_VERSION_UNSUPPORTED: 400,
  ARCHIVE_CORRUPT: 500,
  INPUT_NOT_FOUND: 404,
  INPUT_UNSUPPORTED: 400,
  CONFIG_INVALID: 400,
  SERVICE_UNAVAILABLE: 503,
  KAFKA_AUTH: 503,
  KAFKA_TLS: 503,
  KAFKA_FENCED: 409,
  KAFKA_TIMEOUT: 504,
  KAFKA_TOPIC_MISSING: 404,
  KAFKA_NOT_AUTHORIZED: 503,
  REPLAY_TOPIC_REFUSED: 403,
  STORAGE_FULL: 507,
  STORAGE_NOT_FOUND: 404,
  STORAGE_KEY_INVALID: 404,
  STORAGE_RANGE_INVALID: 416,
  STORAGE_IO: 500,
  DATA_MISMATCH: 500,
  ARCHIVE_LOCKED: 500,
  KAFKA_FAILED: 503,
  TIMEOUT: 500,
  WORKER_FAILED: 500,
  CLOSED: 503,
  INTERNAL: 500,
};

/** An error the API answers with: a code from API_ERROR_STATUS and a message for the client. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: number;
  /** Extra response headers (WWW-Authenticate, Content-Range). */
  readonly headers: Record<string, string>;

  constructor(code: ApiErrorCode, message: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = API_ERROR_STATUS[code];
    this.headers = { ...options.headers };
  }
}

export interface HttpError {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  /** 5xx: worth logging with its cause. */
  serverSide: boolean;
}

/** What express's own middleware (body parser, URL decoding) throws: an error with a status and a type. */
interface ExpressHttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/**
 * Turns anything thrown by a route into a status and an error body. Unknown errors become INTERNAL with a
 * generic message: their text may hold paths or internals and is logged instead.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof ApiError) {
    return { status: err.status, code: err.code, message: err.message, headers: err.headers, serverSide: err.status >= 500 };
  }
  if (isZadsError(err)) {
    const status = ZADS_STATUS[err.code] ?? 500;
    // A storage path must not leak: a client asking for a missing object learns only that it is missing.
    const message = status === 404 ? 'not found' : status >= 500 ? `${err.code.toLowerCase().replace(/_/g, ' ')}` : err.message;
    return { status, code: status === 404 ? 'NOT_FOUND' : err.code, message, headers: {}, serverSide: status >= 500 };
  }
  const e = err as ExpressHttpError & Error;
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e.type === 'entity.too.large') return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body too large', headers: {}, serverSide: false };
    if (e.type === 'entity.parse.failed') return { status: 400, code: 'INVALID_BODY', message: `request body is not valid JSON: ${e.message}`, headers: {}, serverSide: false };
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: e.message, headers: {}, serverSide: false };
    }
    // From the static file server of the web pages.
    if (status === 404) return { status, code: 'NOT_FOUND', message: 'not found', headers: {}, serverSide: false };
    if (status === 412) return { status, code: 'PRECONDITION_FAILED', message: 'precondition failed', headers: {}, serverSide: false };
    if (status === 416) return { status, code: 'RANGE_NOT_SATISFIABLE', message: 'range not satisfiable', headers: {}, serverSide: false };
    return { status: 400, code: 'INVALID_PARAMETER', message: e.expose === false ? 'bad request' : e.message, headers: {}, serverSide: false };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error (logged on the server)', headers: {}, serverSide: true };
}

/** The JSON body of an error answer. */
export function errorBody(e: Pick<HttpError, 'code' | 'message'>): { error: { code: string; message: string } } {
  return { error: { code: e.code, message: e.message } };
}
