import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveIngest } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { Replay } from '../../src/replay/index.ts';
import { realAlerts, renumbered, tempArchive } from '../helpers/archive.ts';
import { cluster, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';

const uw = kafkaFor(UW_BROKERS);

describe('replay --then-live: the archive, then the live topic', () => {
  const night = uniqueNightTopic('20240108');
  const target = `zads-test-handoff-${randomUUID().slice(0, 8)}`;

  const big = uniqueNightTopic('20240110');
  const bigTarget = `zads-test-handoff-${randomUUID().slice(0, 8)}`;

  afterAll(async () => {
    await deleteTopics(uw, [night.topic, target, big.topic, bigTarget]);
  });

  it('gives a recovering broker every alert once: archived ones, then live ones from where the archive ends', async () => {
    const alerts = [...renumbered(await realAlerts(), 100, 8_100_000_000_000_000_000n)];
    const archived = alerts.slice(0, 60);
    const live = alerts.slice(60);
    await ensureTopic(uw, { topic: night.topic, partitions: 2 });
    const producer = uw.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: night.topic, messages: archived.map((a) => ({ key: a.decoded.alert.objectId, value: a.bytes })) });

    const temp = await tempArchive();
    try {
      const ingest = new ArchiveIngest({ cluster: cluster(UW_BROKERS), archive: temp.archive, topics: night.pattern, groupId: `handoff-${night.programid}`, reportIntervalMs: 0 });
      await ingest.start();
      const deadline = Date.now() + 60_000;
      while (ingest.stats.alerts < archived.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await ingest.close();
      expect(ingest.stats.alerts).toBe(archived.length);

      // The broker's outage ends: these arrive after the archive stopped, only the live topic has them.
      await producer.send({ topic: night.topic, messages: live.map((a) => ({ key: a.decoded.alert.objectId, value: a.bytes })) });
      await producer.disconnect();

      const report = await new Replay({
        id: `h-${randomUUID().slice(0, 8)}`,
        archive: temp.archive,
        selection: { night: '20240108', programid: night.programid },
        target: cluster(UW_BROKERS),
        topic: target,
        partitions: 2,
        thenLive: { liveCluster: cluster(UW_BROKERS), idleStopMs: 3000 },
      }).run();
      expect(report).toMatchObject({ state: 'done', fromArchive: archived.length, fromLive: live.length });

      const got = await readTopic(uw, target, alerts.length);
      const candids = got.map((r) => r.message.headers!['zads-candid']!.toString());
      expect(candids.sort()).toEqual(alerts.map((a) => a.candid.toString()).sort());
    } finally {
      await temp.cleanup();
    }
  });

  // Regression: the live part once took one fetch per partition (~13 alerts each) and stopped; a 40-alert
  // hand-off could not see it. Here thousands are left to the live part, on all 16 partitions, half of which
  // have no archived alert at all, and every fetch and transaction boundary is crossed.
  it('hands off thousands of live alerts on every partition, some partitions never archived', async () => {
    const ARCHIVED = 800;
    const LIVE = 3200;
    const alerts = [...renumbered(await realAlerts(), ARCHIVED + LIVE, 8_200_000_000_000_000_000n)];
    const archived = alerts.slice(0, ARCHIVED);
    const live = alerts.slice(ARCHIVED);
    await ensureTopic(uw, { topic: big.topic, partitions: 16 });
    const producer = uw.producer({ idempotent: true });
    await producer.connect();
    try {
      // Archived part: partitions 0-7 only.
      for (let i = 0; i < archived.length; i += 200) {
        await producer.send({ topic: big.topic, messages: archived.slice(i, i + 200).map((a, k) => ({ partition: (i + k) % 8, key: a.decoded.alert.objectId, value: a.bytes })) });
      }
      const temp = await tempArchive();
      try {
        const ingest = new ArchiveIngest({ cluster: cluster(UW_BROKERS), archive: temp.archive, topics: big.pattern, groupId: `handoff-${big.programid}`, reportIntervalMs: 0 });
        await ingest.start();
        const deadline = Date.now() + 120_000;
        while (ingest.stats.alerts < archived.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        await ingest.close();
        expect(ingest.stats.alerts).toBe(archived.length);

        // Live part: all 16 partitions, 200 each.
        for (let i = 0; i < live.length; i += 200) {
          await producer.send({ topic: big.topic, messages: live.slice(i, i + 200).map((a, k) => ({ partition: (i + k) % 16, key: a.decoded.alert.objectId, value: a.bytes })) });
        }

        const report = await new Replay({
          id: `hb-${randomUUID().slice(0, 8)}`,
          archive: temp.archive,
          selection: { night: '20240110', programid: big.programid },
          target: cluster(UW_BROKERS),
          topic: bigTarget,
          partitions: 16,
          thenLive: { liveCluster: cluster(UW_BROKERS), idleStopMs: 5000 },
        }).run();
        expect(report).toMatchObject({ state: 'done', fromArchive: ARCHIVED, fromLive: LIVE });

        const got = await readTopic(uw, bigTarget, alerts.length, { digestOnly: true, timeoutMs: 180_000 });
        const candids = got.map((r) => r.message.headers!['zads-candid']!.toString());
        expect(candids).toHaveLength(alerts.length);
        expect(new Set(candids).size).toBe(alerts.length);
        expect(candids.sort()).toEqual(alerts.map((a) => a.candid.toString()).sort());
        const livePartitions = new Set(got.filter((r) => r.message.headers!['zads-source-partition'] && Number(r.message.headers!['zads-source-partition']!.toString()) >= 8).map((r) => r.message.headers!['zads-source-partition']!.toString()));
        expect(livePartitions.size).toBe(8);
      } finally {
        await temp.cleanup();
      }
    } finally {
      await producer.disconnect();
    }
  }, 600_000);
});
