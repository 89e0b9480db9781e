import type { AlertSource } from '../../alert/index.ts';
import type { Evaluation } from '../filter-set.ts';
import type { AlertRef } from '../judge.ts';
import type { FilterId } from '../tally.ts';

/** What a filter worker is started with. */
export interface WorkerInit {
  /** Filter specs as `loadFilters` takes them: predefined names or absolute module paths. */
  specs: string[];
  /** Base of relative module paths. */
  cwd: string;
  timeoutMs: number;
  freezeAlerts: boolean;
  /** The watchdog's view into the worker; see {@link probeViews}. */
  probe: SharedArrayBuffer;
}

export type ToWorker = { type: 'judge'; id: number; bytes: Uint8Array; source: AlertSource; candid?: bigint; skip: number[] };

export type FromWorker =
  | { type: 'ready'; filters: FilterId[] }
  | { type: 'failed'; error: { code: string; message: string } }
  | { type: 'verdict'; id: number; alerts: AlertRef[]; evaluations: Evaluation[] }
  | { type: 'undecodable'; id: number; error: { code: string; message: string; context: Record<string, unknown> } };

export const PROBE_BYTES = 16;

/**
 * The probe: `call[0]` is the filter index whose synchronous call is running (−1: none), `call[1]` the
 * request it belongs to, `startedMs[0]` when the call began (epoch ms). The worker writes it around
 * every call; the main thread's watchdog reads it — the only way to see a worker stuck in a loop.
 */
export function probeViews(buffer: SharedArrayBuffer): { call: Int32Array; startedMs: Float64Array } {
  return { call: new Int32Array(buffer, 0, 2), startedMs: new Float64Array(buffer, 8, 1) };
}
