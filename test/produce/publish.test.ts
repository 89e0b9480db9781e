import { createHash, randomUUID } from 'node:crypto';
import type { KafkaClient as Kafka } from '../../src/kafka/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload, iterateTarball } from '../../src/alert/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { fromFiles, fromSimulation, publishNight, simulateNight } from '../../src/produce/index.ts';
import type { PublishProgress } from '../../src/produce/index.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { byPartition, cluster, kafkaFor, readTopic } from '../helpers/kafka.ts';
import { IPAC_BROKERS } from '../helpers/services.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('publishNight to the real "ipac" broker', () => {
  let kafka: Kafka;
  const topics: string[] = [];
  const newTopic = () => {
    const topic = `zads_test_produce_${randomUUID()}`;
    topics.push(topic);
    return topic;
  };

  beforeAll(() => {
    kafka = kafkaFor(IPAC_BROKERS);
  });

  afterAll(async () => {
    await deleteTopics(kafka, topics);
  });

  it('publishes a simulated night of 2,000 alerts to 16 partitions, keyed by objectId', async () => {
    const topic = newTopic();
    const night = { night: '20240101', count: 2000, seed: 'publish-test' };
    const progress: PublishProgress[] = [];
    const report = await publishNight({
      cluster: cluster(IPAC_BROKERS),
      topic,
      messages: fromSimulation(night),
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 100,
    });
    expect(report).toMatchObject({ topic, partitions: 16, alerts: 2000, skipped: 0, aborted: false });
    expect(report.bytes).toBeGreaterThan(2000 * 40 * 1024);
    expect(report.alertsPerSec).toBeGreaterThan(0);
    expect(report.mbPerSec).toBeGreaterThan(0);
    expect(report.sendLatencyMs.p50).toBeGreaterThan(0);
    expect(report.sendLatencyMs.p99).toBeGreaterThanOrEqual(report.sendLatencyMs.p50);
    expect(report.sendLatencyMs.max).toBeGreaterThanOrEqual(report.sendLatencyMs.p99);
    expect(progress.at(-1)!.alerts).toBe(2000);

    const records = await readTopic(kafka, topic, 2000, { withCandid: true, settleMs: 1000 });
    expect(records).toHaveLength(2000);
    const generated = [...simulateNight(night)].map((a) => a.candid.toString());
    const received = records.map((r) => r.candid!);
    expect(new Set(received).size).toBe(2000);
    expect([...received].sort()).toEqual([...generated].sort());
    const partitionOf = new Map<string, number>();
    for (const r of records) {
      const [decoded] = await decodePayload(r.message.value!);
      expect(r.message.key!.toString()).toBe(decoded!.alert.objectId);
      const key = decoded!.alert.objectId;
      expect(partitionOf.get(key) ?? r.partition, key).toBe(r.partition);
      partitionOf.set(key, r.partition);
    }
    expect(new Set(records.map((r) => r.partition)).size).toBe(16);
    // Within a partition, alerts keep the order they were generated in (time order).
    for (const list of byPartition(records).values()) {
      const order = list.map((r) => generated.indexOf(r.candid!));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 120_000);

  it('sends the 30 files of the sample tarball byte for byte', async () => {
    const topic = newTopic();
    const report = await publishNight({ cluster: cluster(IPAC_BROKERS), topic, messages: fromFiles([SAMPLE_TARBALL]), partitions: 4 });
    expect(report).toMatchObject({ alerts: 30, skipped: 0, partitions: 4 });
    const originals: string[] = [];
    for await (const m of iterateTarball(SAMPLE_TARBALL)) originals.push(sha(m.bytes));
    const records = await readTopic(kafka, topic, 30, { settleMs: 1000 });
    expect(records.map((r) => r.valueSha256).sort()).toEqual(originals.sort());
  });

  it('paces by exposure: bursts spaced by their jd divided by the speed', async () => {
    const topic = newTopic();
    const night = { night: '20240102', count: 500, seed: 4 };
    const jds = [...new Set([...simulateNight(night)].map((a) => a.candidate.jd))];
    expect(jds.length).toBeGreaterThan(1);
    const speed = 200;
    const spanMs = ((jds.at(-1)! - jds[0]!) * 86_400_000) / speed;
    const report = await publishNight({ cluster: cluster(IPAC_BROKERS), topic, messages: fromSimulation(night), pacing: 'exposures', speed });
    expect(report.alerts).toBe(500);
    expect(report.seconds * 1000).toBeGreaterThanOrEqual(spanMs - 5);
  });

  it('holds a smooth rate', async () => {
    const topic = newTopic();
    const report = await publishNight({
      cluster: cluster(IPAC_BROKERS),
      topic,
      messages: fromSimulation({ night: '20240103', count: 300, seed: 4 }),
      rateAlertsPerSec: 500,
    });
    expect(report.alerts).toBe(300);
    expect(report.seconds).toBeGreaterThanOrEqual(0.59);
    expect(report.alertsPerSec).toBeLessThanOrEqual(510);
  });

  it('reports an unreachable broker by name, quickly', async () => {
    const started = Date.now();
    const failure = await publishNight({
      cluster: cluster(['127.0.0.1:1']),
      topic: newTopic(),
      messages: fromSimulation({ night: '20240101', count: 10, seed: 1 }),
      connectTimeoutMs: 3000,
    }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retriable: true });
    expect((failure as Error).message).toContain('127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
