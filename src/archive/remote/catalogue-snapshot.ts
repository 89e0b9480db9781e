import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { Catalogue } from '../catalogue/index.ts';

export const NIGHT_CATALOGUE_FORMAT = 'zads-night-catalogue';
export const NIGHT_CATALOGUE_VERSION = 1;

/** Lines are gathered into chunks of about this many bytes before they go to gzip. */
const CHUNK_BYTES = 64 * 1024;

function json(value: unknown): string {
  // DESIGN: every 64-bit integer (candid, Kafka offset) is written as a string.
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * The catalogue rows of one night as gzipped JSON lines, the copy of the catalogue kept in S3 beside the
 * night's tarball and segments (a lost data folder can be rebuilt from S3 with it).
 *
 * - line 1: `{"format":"zads-night-catalogue","version":1,"night":{…the nights row…},"segments":[{key,night,programid,sizeBytes}…]}`
 * - then one line per alert in candid order: every column of the alerts table under its AlertRow name
 *   (candid, objectId, night, programid, jd, ra, dec, fid, magpsf, sigmapsf, rb, drb, schemaVersion, topic,
 *   partition, kafkaOffset, kafkaTimestamp, segment, byteOffset, byteLength); candid and kafkaOffset as strings.
 *
 * Rows are read from a read-only connection of their own, in one read transaction, and streamed: memory
 * stays flat and a writer on the archive's connection is never blocked.
 */
export function nightCatalogueStream(cataloguePath: string, night: string, programid: number): Readable {
  async function* lines(): AsyncGenerator<Buffer> {
    const snapshot = new Catalogue(cataloguePath, { readonly: true });
    try {
      snapshot.beginRead();
      const header = {
        format: NIGHT_CATALOGUE_FORMAT,
        version: NIGHT_CATALOGUE_VERSION,
        night: snapshot.night(night, programid) ?? null,
        segments: snapshot.segments().filter((s) => s.night === night && s.programid === programid),
      };
      let chunk = `${json(header)}\n`;
      for (const row of snapshot.alertsOfNight(night, programid)) {
        chunk += `${json(row)}\n`;
        if (chunk.length >= CHUNK_BYTES) {
          yield Buffer.from(chunk, 'utf8');
          chunk = '';
        }
      }
      if (chunk.length > 0) yield Buffer.from(chunk, 'utf8');
      snapshot.endRead();
    } finally {
      snapshot.close();
    }
  }
  const source = Readable.from(lines());
  const gzip = createGzip();
  source.on('error', (err) => gzip.destroy(err));
  return source.pipe(gzip);
}
