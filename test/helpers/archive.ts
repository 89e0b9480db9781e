import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateTarball, readContainer, writeContainer } from '../../src/alert/index.ts';
import type { DecodedAlert } from '../../src/alert/index.ts';
import { CATALOGUE_FILE, Catalogue, alertRow, openArchive, segmentKey } from '../../src/archive/index.ts';
import type { AlertRow, Archive } from '../../src/archive/index.ts';
import type { S3Config } from '../../src/config/index.ts';
import { SAMPLE_TARBALL, goodAlertFiles } from './data.ts';
import { venvPython } from './python.ts';

/** One real alert: its exact bytes (a single-alert container file) and what they decode to. */
export interface RealAlert {
  bytes: Buffer;
  decoded: DecodedAlert;
  candid: bigint;
}

let cached: RealAlert[] | undefined;

/**
 * The real ZTF alerts of the shared data: the 30 members of the sample UW tarball, then the single-alert
 * files that decode whole (the v4.02 file with trailing garbage does not), each candid once (the v3.0 and
 * v3.3 sample files share one). 42 alerts.
 */
export async function realAlerts(): Promise<RealAlert[]> {
  if (cached) return cached;
  const out: RealAlert[] = [];
  const seen = new Set<bigint>();
  const add = (bytes: Buffer): void => {
    let decoded: DecodedAlert[];
    try {
      decoded = readContainer(bytes);
    } catch {
      return;
    }
    const candid = decoded[0]!.alert.candid;
    if (decoded.length !== 1 || seen.has(candid)) return;
    seen.add(candid);
    out.push({ bytes, decoded: decoded[0]!, candid });
  };
  for await (const m of iterateTarball(SAMPLE_TARBALL)) add(m.bytes);
  for (const f of goodAlertFiles()) add(readFileSync(f.path));
  cached = out;
  return out;
}

/**
 * The real alerts again under new candids (`firstCandid`, +1, …), each written as a single-alert
 * container file with its own writer schema: distinct alerts of real size for volume and speed tests.
 */
export function* renumbered(alerts: readonly RealAlert[], count: number, firstCandid: bigint): Generator<RealAlert> {
  for (let i = 0; i < count; i++) {
    const src = alerts[i % alerts.length]!;
    const candid = firstCandid + BigInt(i);
    const alert = { ...src.decoded.alert, candid, candidate: { ...src.decoded.alert.candidate, candid } };
    const bytes = writeContainer([alert], src.decoded.schema);
    yield { bytes, candid, decoded: { ...src.decoded, alert } };
  }
}

export interface TempArchive {
  archive: Archive;
  dataDir: string;
  /** Closes the archive and removes its folder. */
  cleanup(): Promise<void>;
}

/** A new, empty archive in a fresh temporary folder, opened as the writer. */
export async function tempArchive(options: { s3?: S3Config } = {}): Promise<TempArchive> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zads-archive-'));
  const archive = await openArchive({ dataDir, s3: options.s3, writer: true });
  return {
    archive,
    dataDir,
    async cleanup() {
      await archive.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AddAlertsOptions {
  night: string;
  programid: number;
  /** What fills the segment (a topic-partition name for ingest); default "fixture". */
  source?: string;
  /** Kafka timestamp recorded for each alert (epoch ms); default none (the tarball then uses jd). */
  kafkaTimestamp?: number;
}

/**
 * Archives alerts as ingest does, without Kafka: appends their exact bytes to the night's segment,
 * makes them durable, then records rows and segment size in one catalogue batch. Returns the rows.
 */
export async function addAlerts(archive: Archive, alerts: readonly RealAlert[], options: AddAlertsOptions): Promise<AlertRow[]> {
  const { night, programid } = options;
  const key = segmentKey(night, programid, options.source ?? 'fixture');
  if (alerts.length === 0) {
    archive.catalogue.ensureNight(night, programid);
    return [];
  }
  const { offsets, sizeBytes } = await archive.segments.append(key, alerts.map((a) => a.bytes));
  await archive.segments.sync();
  const rows = alerts.map((a, i) =>
    alertRow(a.decoded, {
      night,
      programid,
      segment: key,
      byteOffset: offsets[i]!,
      byteLength: a.bytes.length,
      kafkaTimestamp: options.kafkaTimestamp ?? null,
    }),
  );
  archive.catalogue.record({ alerts: rows, segments: [{ key, night, programid, sizeBytes }] });
  return rows;
}

/** Runs a command and returns its output; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const FASTAVRO_READER = `
import sys, fastavro
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        for record in fastavro.reader(f):
            print(record['candid'])
`;

/**
 * Candids of every alert in the given .avro files, as Python's fastavro (in the project's virtual
 * environment) reads them. Fails — never skips — when it is missing, saying how to make it.
 */
export function fastavroCandids(files: readonly string[]): string[] {
  return run(venvPython(), ['-c', FASTAVRO_READER, ...files]).split('\n').filter((l) => l.length > 0);
}

/**
 * Alerts of a night in the catalogue of a data folder, read through its own read-only connection (as
 * another process would, while `zads archive run` writes); 0 while there is no catalogue yet.
 */
export function archivedCount(dataDir: string, night: string, programid: number): number {
  try {
    const c = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    try {
      return c.countNight(night, programid).alerts;
    } finally {
      c.close();
    }
  } catch {
    return 0;
  }
}
