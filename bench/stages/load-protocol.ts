/**
 * What the load stage and its child processes (load-producer.ts, load-client.ts) say to each other:
 * plans as JSON lines on their stdin, reports as JSON lines on their stdout. Kept apart from the
 * children's entry files, which start running when imported.
 */
import type { PoolIndex } from './load-alerts.ts';
import type { LatencyStats } from './load-stats.ts';

export interface ProducerPlan {
  bootstrap: string;
  topic: string;
  poolPath: string;
  producer: number;
  producers: number;
  rateAlertsPerSec: number;
}

export type ProducerLine =
  | { type: 'ready' }
  | { type: 'progress'; alerts: number; bytes: number }
  | { type: 'done'; alerts: number; bytes: number; seconds: number; sendP50Ms: number; sendP99Ms: number; sendMaxMs: number };

export const QUERY_KINDS = ['objectId', 'candid', 'cone', 'nights'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

export interface ClientPlan {
  url: string;
  /** The catalogue of the archive being served, read to pick alerts that are archived. */
  cataloguePath: string;
  /** Requests per second, all clients together. */
  ratePerSec: number;
  clients: number;
  /** Share of each kind; they need not add up to 1. */
  mix: Record<QueryKind, number>;
  /** Cone search radius, degrees, and most alerts per answer. */
  coneRadiusDeg: number;
  coneLimit: number;
  intervalMs: number;
  pool: PoolIndex;
}

export interface KindResult extends LatencyStats {
  /** 404 for an alert or object the catalogue already held when it was picked: the server's view behind the writer's. */
  notFound: number;
  errors: number;
}

export type ClientLine =
  | { type: 'ready' }
  | { type: 'interval'; t: number; requests: number; errors: number; p50: number; p99: number; max: number }
  | { type: 'result'; seconds: number; requests: number; perKind: Record<QueryKind, KindResult>; overall: KindResult; firstErrors: string[] };

