/** Small statistics of the load stage: latency summaries and the trend of a series. */

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of a list of milliseconds (zeros when it is empty). */
export function summarize(values: readonly number[]): LatencyStats {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted[sorted.length - 1]!, mean: sorted.reduce((s, x) => s + x, 0) / sorted.length };
}

/** Least-squares slope of y over x (y units per x unit); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
