import { isSkipped } from './sources.ts';
import type { SourceItem } from './sources.ts';

export interface DryRunReport {
  alerts: number;
  bytes: number;
  skipped: number;
  seconds: number;
  alertsPerSec: number;
  /** Mebibytes (2^20 bytes) per second. */
  mbPerSec: number;
}

/**
 * Builds every message of a source without sending it: the rate at which the source can feed a
 * producer (for a simulation, the generation and encoding rate on one core).
 */
export async function drainSource(
  messages: AsyncIterable<SourceItem> | Iterable<SourceItem>,
  onProgress?: (done: DryRunReport) => void,
): Promise<DryRunReport> {
  const started = performance.now();
  const r: DryRunReport = { alerts: 0, bytes: 0, skipped: 0, seconds: 0, alertsPerSec: 0, mbPerSec: 0 };
  const finish = () => {
    r.seconds = (performance.now() - started) / 1000;
    r.alertsPerSec = r.seconds > 0 ? r.alerts / r.seconds : 0;
    r.mbPerSec = r.seconds > 0 ? r.bytes / (1024 * 1024) / r.seconds : 0;
    return r;
  };
  for await (const item of messages) {
    if (isSkipped(item)) r.skipped++;
    else {
      r.alerts++;
      r.bytes += item.value.length;
      if (onProgress && r.alerts % 256 === 0) onProgress({ ...finish() });
    }
  }
  return finish();
}
