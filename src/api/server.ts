import { once } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import { errorBody } from './errors.ts';
import type { ApiErrorCode } from './errors.ts';

/** How long close() lets requests in flight (downloads) finish before cutting their connections, ms. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

export interface RunningServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /**
   * Stops accepting connections, closes idle keep-alive connections at once and the others once their
   * request ends, cutting whatever is left after `graceMs`. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * A request node's HTTP parser refuses (a bad method or header, headers too large) never reaches the app:
 * node would answer a bare 400 or 431. It gets the JSON error body every other answer has. Found by
 * fuzzing (test/api/fuzz.test.ts).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // As node does: never write into an answer already on its way (its headers are out).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message]: [number, ApiErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'the request line and headers are larger than the server accepts']
      : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? [413, 'PAYLOAD_TOO_LARGE', 'the chunk extensions are larger than the server accepts']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time']
          : [400, 'MALFORMED_REQUEST', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'})`];
  const body = JSON.stringify(errorBody({ code, message }));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Listens on host:port (port 0: a free one) and resolves once listening. */
export async function listen(app: Express, options: { host: string; port: number }): Promise<RunningServer> {
  const server = app.listen(options.port, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  server.on('clientError', answerClientError);
  // Keep-alive connections outlive a typical client's idle gap (node's default 5 s is shorter than many).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
