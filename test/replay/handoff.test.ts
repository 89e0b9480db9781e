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

  afterAll(async () => {
    await deleteTopics(uw, [night.topic, target]);
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
});
