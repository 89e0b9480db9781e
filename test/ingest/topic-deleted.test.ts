import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { REPO_ROOT, exited, spawnZads } from '../helpers/cli.ts';
import { realAlerts, renumbered } from '../helpers/archive.ts';
import { kafkaFor, readTopic } from '../helpers/kafka.ts';
import type { KafkaClient } from '../../src/kafka/index.ts';
import { IPAC_BROKERS, UW_BROKERS } from '../helpers/services.ts';

/*
 * ZTF deletes old nights upstream. A mirror and a filter runner reading two nights, one of which is deleted
 * while they run, go on with the other, and create nothing on their target for the deleted one.
 */

const ipac = kafkaFor(IPAC_BROKERS);
const uw = kafkaFor(UW_BROKERS);

async function topicsOf(kafka: KafkaClient, programid: number): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => t.includes(`programid${programid}`)).sort();
  } finally {
    await admin.disconnect();
  }
}

async function send(kafka: KafkaClient, topic: string, values: Buffer[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value, i) => ({ partition: i % 4, value })) });
  } finally {
    await producer.disconnect();
  }
}

describe('an upstream night deleted while it is read', () => {
  const programid = 100_000 + Math.floor(Math.random() * 1_000_000_000);
  const old = `ztf_20240113_programid${programid}`;
  const kept = `ztf_20240114_programid${programid}`;
  const pattern = new RegExp(`^ztf_\\d{8}_programid${programid}$`);

  afterAll(async () => {
    await deleteTopics(ipac, [old, kept]);
    await deleteTopics(uw, [old, kept, `${old}_all`, `${kept}_all`]);
  });

  it('mirror and filter runner go on with the other night and create nothing else', async () => {
    const alerts = [...renumbered(await realAlerts(), 400, 8_300_000_000_000_000_000n)].map((a) => a.bytes);
    for (const t of [old, kept]) await ensureTopic(ipac, { topic: t, partitions: 4 });
    await send(ipac, old, alerts.slice(0, 100));
    await send(ipac, kept, alerts.slice(100, 200));

    // As deployed: each its own process, so that whatever a deletion does to one shows in its own output.
    const name = `deleted-${programid}`;
    const mirror = spawnZads(['mirror', '--from', IPAC_BROKERS.join(','), '--to', UW_BROKERS.join(','), '--topics', pattern.source, '--name', name, '--discovery-interval-ms', '500']);
    const mirrorExit = exited(mirror);
    const filter = spawnZads(['filter', '--filter', join(REPO_ROOT, 'test/filter/fixtures/passes-all.ts'), '--brokers', UW_BROKERS.join(','), '--topics', pattern.source, '--name', name, '--discovery-interval-ms', '500']);
    const filterExit = exited(filter);
    let ended = '';
    void mirrorExit.then((r) => (ended ||= `zads mirror ended (code ${r.code}, signal ${r.signal}):\n${r.output.slice(-3000)}`));
    void filterExit.then((r) => (ended ||= `zads filter ended (code ${r.code}, signal ${r.signal}):\n${r.output.slice(-3000)}`));
    try {
      expect(await readTopic(uw, `${kept}_all`, 100, { digestOnly: true, settleMs: 0 })).toHaveLength(100);
      const before = await topicsOf(uw, programid);
      expect(before).toEqual([old, `${old}_all`, kept, `${kept}_all`].sort());

      // The old night goes, upstream and on UW (its retention ended there too), while both run.
      await deleteTopics(ipac, [old]);
      await deleteTopics(uw, [old, `${old}_all`]);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await send(ipac, kept, alerts.slice(200, 400));

      const mirrored = await readTopic(uw, kept, 300, { digestOnly: true, settleMs: 2000 });
      expect(mirrored, ended).toHaveLength(300);
      const filtered = await readTopic(uw, `${kept}_all`, 300, { digestOnly: true, settleMs: 2000 });
      expect(filtered, ended).toHaveLength(300);
      expect(new Set(filtered.map((r) => r.valueSha256)).size).toBe(300);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await topicsOf(uw, programid)).toEqual([kept, `${kept}_all`].sort());
      expect(ended).toBe('');
    } finally {
      mirror.kill('SIGTERM');
      filter.kill('SIGTERM');
    }
    const [m, f] = await Promise.all([mirrorExit, filterExit]);
    expect(m.code, m.output).toBe(0);
    expect(f.code, f.output).toBe(0);
    // Neither logged an error about the deleted night.
    expect(m.output).not.toMatch(/"level":50/);
    expect(f.output).not.toMatch(/"level":50/);
  }, 300_000);
});
