import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Archive } from '../archive.ts';
import type { Catalogue, NightRow } from '../catalogue/index.ts';
import type { NightReader, SegmentExtent } from '../remote/index.ts';
import type { Difference } from './types.ts';

/**
 * The night's segments against the catalogue: every recorded segment is there at its recorded size (in
 * the store the reader would read it from), every row's byte range lies inside its segment, and no
 * segment file of the night is unknown to the catalogue. While an ingest appends to an open night, a
 * segment can be briefly larger than recorded (bytes written, not yet recorded).
 */
export async function checkSegments(archive: Archive, catalogue: Catalogue, reader: NightReader, row: NightRow): Promise<Difference[]> {
  const { night, programid } = row;
  const out: Difference[] = [];
  const extents = new Map<string, SegmentExtent>();
  const extent = async (key: string): Promise<SegmentExtent> => {
    let e = extents.get(key);
    if (!e) {
      e = await reader.segmentExtent(key);
      extents.set(key, e);
    }
    return e;
  };
  const recorded = catalogue.segments().filter((s) => s.night === night && s.programid === programid);
  for (const seg of recorded) {
    const have = (await extent(seg.key)).availableBytes;
    if (have === undefined) {
      if (seg.sizeBytes > 0) out.push({ night, programid, kind: 'segment-missing', key: seg.key, detail: `segment ${seg.key} (${seg.sizeBytes} bytes recorded) is in no store` });
    } else if (have > seg.sizeBytes) {
      out.push({ night, programid, kind: 'segment-larger', key: seg.key, detail: `segment ${seg.key} has ${have} bytes, the catalogue records ${seg.sizeBytes}` });
    } else if (have < seg.sizeBytes) {
      out.push({ night, programid, kind: 'segment-smaller', key: seg.key, detail: `segment ${seg.key} has ${have} bytes, the catalogue records ${seg.sizeBytes}` });
    }
  }

  const used = catalogue.segmentUse(night, programid);
  for (const u of used) {
    const key = u.segment;
    const have = (await extent(key)).availableBytes;
    if (have !== undefined && u.endByte <= have) continue;
    for (const r of catalogue.alertsEndingPast(night, programid, key, have ?? -1)) {
      const candid = String(r.candid);
      const range = `${r.byteOffset}+${r.byteLength}`;
      out.push(
        have === undefined
          ? { night, programid, kind: 'row-bytes-missing', key, candid, detail: `alert ${candid} is at ${key} ${range}, a segment in no store` }
          : { night, programid, kind: 'row-bytes-short', key, candid, detail: `alert ${candid} is at ${key} ${range}, past the segment's end at ${have}` },
      );
    }
  }

  const known = new Set([...recorded.map((s) => s.key), ...used.map((u) => u.segment)]);
  const folder = `segments/${night}/programid${programid}`;
  const files = await readdir(join(archive.dataDir, ...folder.split('/')), { withFileTypes: true }).catch(() => []);
  for (const f of files) {
    const key = `${folder}/${f.name}`;
    if (f.isFile() && f.name.endsWith('.seg') && !known.has(key)) {
      const { size } = await stat(join(archive.dataDir, ...key.split('/')));
      out.push({ night, programid, kind: 'segment-unknown', key, detail: `segment file ${key} (${size} bytes) is not in the catalogue` });
    }
  }
  return out;
}
