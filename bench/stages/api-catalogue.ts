/**
 * The simulated archive the api stage serves: a catalogue of many nights and millions of alert rows,
 * written straight into SQLite (prepared inserts in large transactions, indexes built after loading), and
 * one night's tarball. It is kept in .zads/bench/ and reused while its parameters are unchanged: building
 * 5 M rows takes a minute or two, serving them a few seconds.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CATALOGUE_FILE, openArchive, segmentKey, tarballKey } from '../../src/archive/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { BenchContext } from '../harness.ts';

export interface CatalogueShape {
  nights: number;
  rows: number;
  /** Alerts per object on average: rows / objects. */
  alertsPerObject: number;
  /** Size of the night tarball served by the download test, MB. */
  tarballMB: number;
}

export interface BenchCatalogue extends CatalogueShape {
  dataDir: string;
  objects: number;
  /** objectId of object k. */
  objectId(k: number): string;
  /** The night whose tarball is on disk, and its URL path. */
  tarballPath: string;
  tarballBytes: number;
  built: boolean;
  buildSeconds: number;
}

/** Bumped when the layout of the simulated data changes, so an old cache is rebuilt. */
const LAYOUT_VERSION = 1;
const FIRST_NIGHT_MS = Date.UTC(2024, 0, 1);
const MB = 2 ** 20;

export const objectIdOf = (k: number): string => `ZTF24bench${k.toString(36).padStart(5, '0')}`;

function nightOf(n: number): string {
  return new Date(FIRST_NIGHT_MS + n * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
}

/** A small fast PRNG (mulberry32): the same catalogue on every build. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The cached archive of this shape, built first when missing or of another shape. */
export async function benchCatalogue(ctx: BenchContext, dataDir: string, shape: CatalogueShape): Promise<BenchCatalogue> {
  const objects = Math.max(1, Math.round(shape.rows / shape.alertsPerObject));
  const marker = join(dataDir, 'bench-shape.json');
  const wanted = JSON.stringify({ layout: LAYOUT_VERSION, ...shape });
  const tarballPath = `/${tarballKey(nightOf(0), 1)}`;
  const result = (built: boolean, buildSeconds: number): BenchCatalogue => ({
    ...shape,
    dataDir,
    objects,
    objectId: objectIdOf,
    tarballPath,
    tarballBytes: shape.tarballMB * MB,
    built,
    buildSeconds,
  });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return result(false, 0);

  const t0 = performance.now();
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // The archive's own code lays out the folder and the catalogue's tables; one real alert is the
  // segment every row points at (the objectId query never reads alert bytes).
  const archive = await openArchive({ dataDir, writer: true });
  const { payload } = await loadSampleAlert();
  const segment = segmentKey(nightOf(0), 1, 'bench');
  const { sizeBytes } = await archive.segments.append(segment, [payload]);
  await archive.segments.sync();
  await archive.close();

  const db = new Database(join(dataDir, CATALOGUE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    // Loading then indexing is several times faster than keeping three indexes up to date per row.
    db.exec('DROP INDEX IF EXISTS alerts_by_object; DROP INDEX IF EXISTS alerts_by_night; DROP INDEX IF EXISTS alerts_by_segment;');
    const insert = db.prepare(`INSERT INTO alerts (candid, object_id, night, programid, jd, ra, dec, fid, magpsf, sigmapsf, rb, drb,
      schema_version, topic, partition, kafka_offset, kafka_timestamp, segment, byte_offset, byte_length, archived_at)
      VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, '3.3', NULL, NULL, NULL, NULL, ?, 0, ?, ?)`);
    const random = prng(20240101);
    const perNight = Math.ceil(shape.rows / shape.nights);
    const now = Date.now();
    const nightNames = Array.from({ length: shape.nights }, (_, n) => nightOf(n));
    const BATCH = 200_000;
    const load = db.transaction((from: number, to: number) => {
      for (let g = from; g < to; g++) {
        const n = Math.floor(g / perNight);
        const i = g - n * perNight;
        // 7919 is prime to the object count, so each object's alerts spread evenly over the nights.
        const k = (g * 7919) % objects;
        insert.run(
          1_000_000_000_000 + g,
          objectIdOf(k),
          nightNames[n],
          2460310.5 + n + 0.1 + (i / perNight) * 0.35,
          random() * 360,
          Math.asin(2 * random() - 1) * (180 / Math.PI),
          1 + (g % 2),
          16 + random() * 5,
          0.05 + random() * 0.2,
          random(),
          random(),
          segment,
          payload.length,
          now,
        );
      }
    });
    for (let from = 0; from < shape.rows; from += BATCH) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      load(from, Math.min(shape.rows, from + BATCH));
      ctx.progress(`catalogue: ${Math.min(shape.rows, from + BATCH).toLocaleString('en-US')} / ${shape.rows.toLocaleString('en-US')} rows`);
    }
    ctx.progress('catalogue: building the indexes', true);
    db.exec(`CREATE INDEX alerts_by_object ON alerts (object_id, jd);
      CREATE INDEX alerts_by_night ON alerts (night, programid, jd);
      CREATE INDEX alerts_by_segment ON alerts (segment, byte_offset);`);
    const night = db.prepare(`INSERT OR REPLACE INTO nights (night, programid, state, alerts, bytes, first_jd, last_jd, closed_at, tarball_key, tarball_bytes, tarball_md5, tarball_alerts, stored)
      VALUES (?, 1, 'closed', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'local')`);
    db.transaction(() => {
      for (let n = 0; n < shape.nights; n++) {
        const count = Math.max(0, Math.min(perNight, shape.rows - n * perNight));
        const jd0 = 2460310.5 + n + 0.1;
        const key = n === 0 ? tarballKey(nightOf(n), 1) : null;
        night.run(nightOf(n), count, count * payload.length, jd0, jd0 + 0.35, now, key, key ? shape.tarballMB * MB : null, key ? 'not-computed' : null, key ? count : null);
      }
      db.prepare('INSERT OR REPLACE INTO segments (key, night, programid, size_bytes) VALUES (?, ?, 1, ?)').run(segment, nightOf(0), sizeBytes);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }

  // The download test's night: incompressible bytes, as a real tarball of gzipped cutouts nearly is.
  ctx.progress(`tarball: writing ${shape.tarballMB} MB`, true);
  const file = join(dataDir, tarballKey(nightOf(0), 1));
  mkdirSync(dirname(file), { recursive: true });
  const chunk = randomBytes(8 * MB);
  const fh = await open(file, 'w');
  try {
    for (let written = 0; written < shape.tarballMB * MB; written += chunk.length) await fh.write(chunk, 0, Math.min(chunk.length, shape.tarballMB * MB - written));
  } finally {
    await fh.close();
  }
  writeFileSync(marker, wanted);
  return result(true, (performance.now() - t0) / 1000);
}
