import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StageOutcome } from './harness.ts';
import type { MachineInfo } from './machine.ts';

/** The JSON file a run writes. */
export interface BenchReport {
  /** Bumped when the layout changes, so that scripts comparing runs can tell. */
  format: 1;
  date: string;
  machine: MachineInfo;
  options: { quick: boolean; only: string[]; dataDir: string; kafkaBootstrap: string };
  stages: StageOutcome[];
}

/** Formats a number for the table: integers with thousands separators, small numbers with 3 significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** The results as a plain-text table: stage, metric, value, unit, ratio to its baseline, goal. */
export function formatTable(outcomes: readonly StageOutcome[]): string {
  const header = ['stage', 'metric', 'value', 'unit', 'vs baseline', 'goal'];
  const rows: string[][] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      rows.push([o.name, 'ERROR', '', '', '', o.error ?? '']);
      continue;
    }
    for (const r of o.results) {
      let vs = '';
      if (r.ratio !== undefined && r.baselineResolved) {
        const sameMetric = r.baselineResolved.endsWith(`:${r.metric}`);
        const name = sameMetric ? r.baselineResolved.slice(0, -r.metric.length - 1) : r.baselineResolved;
        vs = `${r.ratio.toFixed(2)}× ${name}`;
      }
      else if (r.baseline) vs = `(${r.baseline} not measured)`;
      rows.push([o.name, r.metric, formatValue(r.value), r.unit, vs, r.goal ?? '']);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([2]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Writes the report as JSON, creating the folder; BigInts never occur in it. */
export async function writeReport(path: string, report: BenchReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** bench/results/bench-<ISO timestamp>.json, with ':' and '.' of the timestamp as '-' so every file system takes it. */
export function defaultReportPath(repoRoot: string, date: Date): string {
  return `${repoRoot}/bench/results/bench-${date.toISOString().replace(/[:.]/g, '-')}.json`;
}
