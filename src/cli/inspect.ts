import type { Command } from 'commander';
import { iterateContainer, readInputs, summarize } from '../alert/index.ts';
import type { AlertSummary } from '../alert/index.ts';
import { toZadsError } from '../errors.ts';
import type { ZadsError } from '../errors.ts';

export interface InspectResult {
  alerts: number;
  files: number;
  failures: ZadsError[];
  byVersion: Record<string, number>;
}

/** Something to print each alert and each failure to; the CLI writes lines, tests collect them. */
export interface InspectSink {
  alert(summary: AlertSummary): void;
  failure(error: ZadsError): void;
}

/**
 * Decodes every alert in the given files, folders and tarballs. A damaged input is reported and the
 * walk goes on; the alerts decoded before the damage in the same file are still reported.
 */
export async function inspect(paths: readonly string[], sink: InspectSink): Promise<InspectResult> {
  const result: InspectResult = { alerts: 0, files: 0, failures: [], byVersion: {} };
  for await (const item of readInputs(paths)) {
    result.files++;
    if ('error' in item) {
      result.failures.push(item.error);
      sink.failure(item.error);
      continue;
    }
    try {
      for (const decoded of iterateContainer(item.bytes, { source: item.source })) {
        const summary = summarize(decoded);
        result.alerts++;
        result.byVersion[summary.schemaVersion] = (result.byVersion[summary.schemaVersion] ?? 0) + 1;
        sink.alert(summary);
      }
    } catch (err) {
      const error = toZadsError(err, { file: item.source.file, member: item.source.member });
      result.failures.push(error);
      sink.failure(error);
    }
  }
  return result;
}

function where(s: AlertSummary): string {
  return s.source.member ? `${s.source.file}:${s.source.member}` : (s.source.file ?? '');
}

function formatLine(s: AlertSummary): string {
  return [
    s.candid.padEnd(19),
    s.objectId.padEnd(12),
    s.jd.toFixed(5),
    s.ra.toFixed(6).padStart(11),
    s.dec.toFixed(6).padStart(10),
    (Number.isFinite(s.magpsf) ? s.magpsf.toFixed(3) : String(s.magpsf)).padStart(7),
    String(s.fid).padStart(3),
    `v${s.schemaVersion}`.padEnd(6),
    String(s.prvCandidates).padStart(4),
    where(s),
  ].join('  ');
}

const HEADER = ['candid'.padEnd(19), 'objectId'.padEnd(12), 'jd'.padEnd(13), 'ra'.padStart(11), 'dec'.padStart(10), 'magpsf'.padStart(7), 'fid', 'schema', ' prv', 'source'].join('  ');

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('decode alert files, folders of .avro files and UW night tarballs; one line per alert')
    .argument('<paths...>', '.avro container files, folders, or ztf_*.tar.gz tarballs')
    .option('--json', 'one JSON object per alert per line (64-bit integers as strings); summary on stderr')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const out = process.stdout;
      if (!opts.json) out.write(`${HEADER}\n`);
      const result = await inspect(paths, {
        alert: (s) => out.write(opts.json ? `${JSON.stringify(s)}\n` : `${formatLine(s)}\n`),
        failure: (e) => process.stderr.write(`error: ${e.code}: ${e.describe()}\n`),
      });
      const versions = Object.entries(result.byVersion)
        .map(([v, n]) => `${n} of v${v}`)
        .join(', ');
      const summary = `${result.alerts} alert(s) from ${result.files} file(s)${versions ? ` (${versions})` : ''}; ${result.failures.length} failure(s)`;
      if (opts.json) process.stderr.write(`${summary}\n`);
      else out.write(`${summary}\n`);
      process.exitCode = result.failures.length > 0 ? 1 : 0;
    });
}
