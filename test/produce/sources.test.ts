import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iterateTarball, readContainer } from '../../src/alert/index.ts';
import { fromFiles, fromSimulation, isSkipped } from '../../src/produce/index.ts';
import type { OutgoingMessage, SourceItem } from '../../src/produce/index.ts';
import { ALERTS_DIR, BROKEN_FILE, SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, V33_FILE } from '../helpers/data.ts';

async function collect(source: AsyncIterable<SourceItem>): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('fromFiles', () => {
  it('yields each file of a UW tarball unchanged, keyed by its objectId', async () => {
    const items = await collect(fromFiles([SAMPLE_TARBALL]));
    const members: Buffer[] = [];
    for await (const m of iterateTarball(SAMPLE_TARBALL)) members.push(m.bytes);
    expect(items).toHaveLength(30);
    items.forEach((item, i) => {
      expect(isSkipped(item)).toBe(false);
      const m = item as OutgoingMessage;
      expect(m.value.equals(members[i]!)).toBe(true);
      const alert = readContainer(m.value)[0]!.alert;
      expect(m.key).toBe(alert.objectId);
      expect(m.jd).toBe(alert.candidate.jd);
    });
  });

  it('skips, and reports, files that do not decode; sends the rest of a folder', async () => {
    const items = await collect(fromFiles([ALERTS_DIR, `${ALERTS_DIR}no-such-file.avro`]));
    const skipped = items.filter(isSkipped);
    const sent = items.filter((i): i is OutgoingMessage => !isSkipped(i));
    const skippedFiles = skipped.map((s) => s.source.file);
    expect(skippedFiles).toContain(BROKEN_FILE);
    expect(skippedFiles).toContain(TRAILING_GARBAGE_FILE);
    expect(skippedFiles).toContain(`${ALERTS_DIR}no-such-file.avro`);
    expect(skipped.find((s) => s.source.file === `${ALERTS_DIR}no-such-file.avro`)!.skipped.code).toBe('INPUT_NOT_FOUND');
    expect(sent.some((m) => m.value.equals(readFileSync(V33_FILE)))).toBe(true);
  });
});

describe('fromSimulation', () => {
  it('frames bare records in the Confluent wire format with the schema id', () => {
    const [item] = fromSimulation({ night: '20240101', count: 1, seed: 1, format: 'confluent', schemaId: 42 });
    const m = item as OutgoingMessage;
    expect(m.value[0]).toBe(0);
    expect(m.value.readUInt32BE(1)).toBe(42);
    expect(m.key).toMatch(/^ZTF\d{2}[a-z]{7}$/);
  });

  it('rejects a night that is not a calendar date', () => {
    expect(() => fromSimulation({ night: '20240231', count: 1, seed: 1 })).toThrow(/night/);
  });
});
