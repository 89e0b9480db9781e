import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

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

/** Listens on host:port (port 0: a free one) and resolves once listening. */
export async function listen(app: Express, options: { host: string; port: number }): Promise<RunningServer> {
  const server = app.listen(options.port, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
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
