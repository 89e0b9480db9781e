import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveIngest } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { realAlerts, tempArchive } from '../helpers/archive.ts';
import type { RealAlert, TempArchive } from '../helpers/archive.ts';
import { cluster, kafkaFor, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';

/*
 * The group's committed offsets are only advisory; the catalogue says where each partition stands. When a
 * partition comes back to the running ingest with the group's offset behind the catalogue — a consumer restarted
 * after a broker crash, and the commits made while the coordinator was down had failed — the
 * first batch holds only alerts archived already. Left unresolved, that batch was fetched again and again and
 * the partition never moved on (found by test/ingest/failover.test.ts).
 */

const uw = kafkaFor(UW_BROKERS);

describe('archive ingest when the group offset is behind the catalogue', () => {
  const night = uniqueNightTopic('20240109');
  const groupId = `zads-archive-behind-${night.programid}`;
  let temp: TempArchive | undefined;
  let ingest: ArchiveIngest | undefined;

  afterAll(async () => {
    await ingest?.close();
    await temp?.cleanup();
    await deleteTopics(uw, [night.topic]);
  });

  /** One send per alert: each is a record batch of its own, and a fetch can end after any of them. */
  async function send(alerts: readonly RealAlert[]): Promise<void> {
    const producer = uw.producer({ idempotent: true });
    await producer.connect();
    try {
      for (const [i, a] of alerts.entries()) {
        await producer.send({ topic: night.topic, messages: [{ partition: i % 2, key: a.decoded.alert.objectId, value: a.bytes }] });
      }
    } finally {
      await producer.disconnect();
    }
  }

  it('goes on from the catalogue position of a partition handed back with an older group offset', async () => {
    const alerts = await realAlerts();
    const [before, after] = [alerts.slice(0, 30), alerts.slice(30)];
    await ensureTopic(uw, { topic: night.topic, partitions: 2 });
    await send(before);
    temp = await tempArchive();
    // Fetches smaller than an alert return one record batch each: a partition's backlog spans many batches,
    // as 8 MiB fetches of 75 KB alerts do in a real night.
    ingest = new ArchiveIngest({ cluster: cluster(UW_BROKERS), archive: temp.archive, topics: night.pattern, groupId, reportIntervalMs: 0, maxFetchBytesPerPartition: 1024 });
    await ingest.start();
    await waitFor('the first alerts archived', () => ingest!.stats.alerts === before.length, { timeoutMs: 90_000 });

    // Another member joins the group, is given one partition, commits offset 0 for it and leaves: the
    // partition goes back to the ingest with the group's offset at 0, the catalogue's at its end.
    let resolveAssigned: (partitions: number[]) => void = () => undefined;
    const assigned = new Promise<number[]>((resolve) => (resolveAssigned = resolve));
    const other = uw.consumer({
      groupId,
      maxWaitTimeInMs: 250,
      rebalance: async (event, partitions) => {
        if (event === 'assign' && partitions.length > 0) resolveAssigned(partitions.filter((x) => x.topic === night.topic).map((x) => x.partition));
        return undefined;
      },
    });
    await other.connect();
    try {
      await other.subscribe({ topic: night.topic });
      await other.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined });
      const partitions = await assigned;
      expect(partitions).toHaveLength(1);
      await other.commitOffsets(partitions.map((partition) => ({ topic: night.topic, partition, offset: '0' })));
    } finally {
      await other.disconnect();
    }

    await send(after);
    await waitFor('the later alerts archived', () => ingest!.stats.alerts === alerts.length, { timeoutMs: 90_000 });
    expect(ingest.stats.duplicates).toBe(0);
    const rows = [...temp.archive.catalogue.alertsOfNight('20240109', night.programid)];
    expect(rows.map((r) => r.candid).sort()).toEqual(alerts.map((a) => a.candid).sort());
  }, 180_000);
});
