import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainer, readInputs } from '../../src/alert/index.ts';
import { openArchive, readAll } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { ArchiveIngest } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { BROKEN_FILE, SAMPLE_TARBALL } from '../helpers/data.ts';
import { cluster, kafkaFor, produce, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';
import { readFileSync } from 'node:fs';

const uw = kafkaFor(UW_BROKERS);

describe('archive ingest from the real "uw" broker', () => {
  const night = uniqueNightTopic('20180819');
  let archive: Archive;
  let ingest: ArchiveIngest;
  const sample: { candid: bigint; objectId: string; bytes: Buffer }[] = [];
  const broken = readFileSync(BROKEN_FILE);

  beforeAll(async () => {
    for await (const item of readInputs([SAMPLE_TARBALL])) {
      if ('bytes' in item) {
        const a = readContainer(item.bytes)[0]!.alert;
        sample.push({ candid: a.candid, objectId: a.objectId, bytes: item.bytes });
      }
    }
    await ensureTopic(uw, { topic: night.topic, partitions: 3 });
    await produce(uw, night.topic, [
      ...sample.map((s) => ({ key: s.objectId, value: s.bytes })),
      { key: 'ZTF18broken', value: broken, partition: 1 },
      { key: sample[0]!.objectId, value: sample[0]!.bytes }, // delivered twice: recorded once
    ]);
    archive = await openArchive({ dataDir: mkdtempSync(join(tmpdir(), 'zads-archive-')), writer: true });
    ingest = new ArchiveIngest({ cluster: cluster(UW_BROKERS), archive, topics: night.pattern, groupId: `zads-archive-test-${night.programid}`, reportIntervalMs: 0 });
    await ingest.start();
    await waitFor('every message archived', () => ingest.stats.alerts + ingest.stats.duplicates + ingest.stats.quarantined >= sample.length + 2);
  });

  afterAll(async () => {
    await ingest?.close();
    await ingest?.close();
    await archive?.close();
    await deleteTopics(uw, [night.topic]);
  });

  it('records every alert once, under the night of its topic, with the bytes it arrived with', async () => {
    expect(ingest.stats).toMatchObject({ alerts: sample.length, duplicates: 1, quarantined: 1 });
    const rows = [...archive.catalogue.alertsOfNight('20180819', night.programid)];
    expect(rows.map((r) => r.candid).sort()).toEqual(sample.map((s) => s.candid).sort());
    for (const s of sample) {
      const row = archive.catalogue.alert(s.candid)!;
      expect(row).toMatchObject({ objectId: s.objectId, night: '20180819', programid: night.programid, topic: night.topic, schemaVersion: '3.0' });
      const stored = await archive.segments.read(row.segment, row.byteOffset, row.byteLength);
      expect(stored.equals(s.bytes)).toBe(true);
    }
    expect(archive.catalogue.night('20180819', night.programid)).toMatchObject({ state: 'open', alerts: sample.length });
  });

  it('keeps the undecodable message byte for byte in the quarantine with its reason and position', async () => {
    const [q] = archive.catalogue.quarantined();
    expect(q).toMatchObject({ topic: night.topic, partition: 1, code: 'ALERT_CORRUPT', byteLength: broken.length });
    expect(q!.reason).toMatch(/does not decode/);
    expect((await readAll(await archive.local.get(q!.key))).equals(broken)).toBe(true);
  });

  it('stores each partition\'s next offset with the rows', () => {
    let total = 0n;
    for (let p = 0; p < 3; p++) total += archive.catalogue.position(night.topic, p) ?? 0n;
    expect(total).toBe(BigInt(sample.length + 2));
  });
});
