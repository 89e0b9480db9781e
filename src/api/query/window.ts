import type { AlertSummary, Catalogue, NightWindow } from '../../archive/index.ts';
import type { LocatedRow } from './object.ts';
import type { PagePosition } from './cursor.ts';

export type { NightWindow } from '../../archive/index.ts';

/** One page of rows, and whether more follow. */
export function windowPage(catalogue: Catalogue, w: NightWindow, after: PagePosition | undefined, limit: number): { rows: AlertSummary[]; more: boolean } {
  const rows = catalogue.windowSummaries(w, after, limit + 1);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/**
 * Where the bytes of every alert of a window are, in (jd, candid) order, a batch at a time. Each batch is
 * its own short query, so no read transaction stays open for the length of a download.
 */
export function* windowLocations(catalogue: Catalogue, w: NightWindow, batch = 500): Generator<LocatedRow[]> {
  let after: PagePosition | undefined;
  for (;;) {
    const rows = catalogue.windowLocations(w, after, batch);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batch) return;
    const last = rows[rows.length - 1]!;
    after = { jd: last.jd, candid: last.candid };
  }
}

/** Whether a window holds any alert (a subset archive answers 404 when none). */
export function windowHasAlerts(catalogue: Catalogue, w: NightWindow): boolean {
  return catalogue.windowHasAlerts(w);
}
