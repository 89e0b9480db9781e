import { afterAll, describe, expect, it } from 'vitest';
import { FilterStream } from '../../src/filter/index.ts';
import { Mirror } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import passesAll from '../filter/fixtures/passes-all.ts';
import { realAlerts, renumbered } from '../helpers/archive.ts';
import { cluster, kafkaFor, readTopic } from '../helpers/kafka.ts';
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

    const mirror = new Mirror({ from: cluster(IPAC_BROKERS), to: cluster(UW_BROKERS), topics: pattern, name: `deleted-${programid}`, reportIntervalMs: 0, discoveryIntervalMs: 500 });
    const filter = new FilterStream({ cluster: cluster(UW_BROKERS), filters: [passesAll], topics: pattern, name: `deleted-${programid}`, reportIntervalMs: 0, discoveryIntervalMs: 500 });
    const failures: unknown[] = [];
    mirror.onFailure((e) => failures.push(e));
    filter.onFailure((e) => failures.push(e));
    await mirror.start();
    await filter.start();
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
      expect(mirrored).toHaveLength(300);
      const filtered = await readTopic(uw, `${kept}_all`, 300, { digestOnly: true, settleMs: 2000 });
      expect(filtered).toHaveLength(300);
      expect(new Set(filtered.map((r) => r.valueSha256)).size).toBe(300);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await topicsOf(uw, programid)).toEqual([kept, `${kept}_all`].sort());
      expect(mirror.stats.topics).toEqual([kept]);
      expect(filter.stats.topics).toEqual([kept]);
      expect(failures).toEqual([]);
    } finally {
      await filter.close();
      await mirror.close();
    }
  }, 300_000);
});
