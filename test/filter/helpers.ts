import { readFileSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import { decodePayload, readInputs } from '../../src/alert/index.ts';
import type { DecodedAlert } from '../../src/alert/index.ts';
import { alertRow, segmentKey } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { FilterStream } from '../../src/filter/index.ts';
import type { FilterStreamOptions } from '../../src/filter/index.ts';
import { SAMPLE_TARBALL, goodAlertFiles } from '../helpers/data.ts';

/** One real alert file: its exact bytes and what they decode to. */
export interface SampleAlert {
  bytes: Buffer;
  decoded: DecodedAlert;
  candid: string;
  objectId: string;
}

async function decodeAll(items: { bytes: Buffer }[]): Promise<SampleAlert[]> {
  const out: SampleAlert[] = [];
  for (const { bytes } of items) {
    let decoded: DecodedAlert[];
    try {
      decoded = await decodePayload(bytes);
    } catch {
      continue; // the broken and trailing-garbage files
    }
    out.push({ bytes, decoded: decoded[0]!, candid: decoded[0]!.alert.candid.toString(), objectId: decoded[0]!.alert.objectId });
  }
  return out;
}

/** The 30 members of the real UW sample tarball, in tar order. */
export async function tarballAlerts(): Promise<SampleAlert[]> {
  const items: { bytes: Buffer }[] = [];
  for await (const item of readInputs([SAMPLE_TARBALL])) if ('bytes' in item) items.push(item);
  return decodeAll(items);
}

/** Every real alert that decodes: the tarball's 30 and the single-alert files of schemas 1.8 to 3.3. */
export async function allRealAlerts(): Promise<SampleAlert[]> {
  const files = goodAlertFiles().map((f) => ({ bytes: readFileSync(f.path) }));
  return [...(await tarballAlerts()), ...(await decodeAll(files))];
}

/** The alerts as Kafka messages, keyed by objectId as ZTF keys them. */
export function alertMessages(alerts: readonly SampleAlert[]): { key: string; value: Buffer }[] {
  return alerts.map((a) => ({ key: a.objectId, value: a.bytes }));
}

/** A fixture module's path. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/** Archives alerts as ingest does, through the archive's own API: segment bytes made durable, then the catalogue. */
export async function archiveAlerts(archive: Archive, alerts: SampleAlert[], night: string, programid: number): Promise<void> {
  const key = segmentKey(night, programid, 'fixture');
  const { offsets, sizeBytes } = await archive.segments.append(key, alerts.map((a) => a.bytes));
  await archive.segments.sync();
  const rows = alerts.map((a, i) => alertRow(a.decoded, { night, programid, segment: key, byteOffset: offsets[i]!, byteLength: a.bytes.length }));
  archive.catalogue.record({ alerts: rows, segments: [{ key, night, programid, sizeBytes }] });
}

/** A started filter runner, closed when the current test ends (close is idempotent: the test may close it sooner). */
export async function startFilterStream(options: FilterStreamOptions): Promise<FilterStream> {
  const runner = new FilterStream(options);
  onTestFinished(() => runner.close());
  await runner.start();
  return runner;
}
