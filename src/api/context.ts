import type { Archive } from '../archive/index.ts';
import type { ZadsConfig } from '../config/index.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import type { ReplayRegistry } from './replays.ts';

export type ApiConfig = ZadsConfig['api'];

/** What every route handler may use. */
export interface ApiContext {
  archive: Archive;
  config: ApiConfig;
  /** Absent when the server runs without replay control. */
  replays: ReplayRegistry | undefined;
  metrics: Registry;
  logger: Logger | undefined;
  /** Counts bytes sent by downloads, by kind ("tarball", "md5sums", "subset"). */
  bytesSent(kind: string, n: number): void;
}
