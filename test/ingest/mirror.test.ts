import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainer, readInputs } from '../../src/alert/index.ts';
import { Mirror } from '../../src/ingest/index.ts';
import { deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { SAMPLE_TARBALL, TRAILING_GARBAGE_FILE } from '../helpers/data.ts';
import { byPartition, cluster, kafkaFor, readTopic, uniqueNightTopic, waitForTopic } from '../helpers/kafka.ts';
import type { ReadRecord } from '../helpers/kafka.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { IPAC_BROKERS, UW_BROKERS } from '../helpers/services.ts';

const ipac = kafkaFor(IPAC_BROKERS);
const uw = kafkaFor(UW_BROKERS);

async function sampleMessages(): Promise<{ key: string; value: Buffer }[]> {
  const out: { key: string; value: Buffer }[] = [];
  for await (const item of readInputs([SAMPLE_TARBALL])) {
    if ('bytes' in item) out.push({ key: readContainer(item.bytes)[0]!.alert.objectId, value: item.bytes });
  }
  return out;
}

function fingerprint(r: ReadRecord): string {
  const headers = Object.entries(r.message.headers ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join('&');
  return `${r.message.key?.toString()}|${r.message.timestamp}|${headers}|${createHash('sha256').update(r.message.value!).digest('hex')}`;
}

function expectSamePartitions(source: ReadRecord[], target: ReadRecord[]): void {
  const s = byPartition(source);
  const t = byPartition(target);
  expect([...t.keys()].sort()).toEqual([...s.keys()].sort());
  for (const [p, records] of s) {
    expect(t.get(p)!.map(fingerprint), `partition ${p}`).toEqual(records.map(fingerprint));
  }
}

describe('mirror, IPAC → UW, on the real brokers', () => {
  const night = uniqueNightTopic('20240102');
  const late = `ztf_20240103_programid${night.programid}`;
  const pattern = new RegExp(`^ztf_\\d{8}_programid${night.programid}$`);
  let mirror: Mirror;
  const metrics = createMetricsRegistry();

  beforeAll(async () => {
    await ensureTopic(ipac, { topic: night.topic, partitions: 4 });
    mirror = new Mirror({ from: cluster(IPAC_BROKERS), to: cluster(UW_BROKERS), topics: pattern, name: `test-${night.programid}`, metrics, reportIntervalMs: 0 });
    await mirror.start();
  });

  afterAll(async () => {
    await mirror.close();
    await mirror.close();
    await deleteTopics(ipac, [night.topic, late]);
    await deleteTopics(uw, [night.topic, late]);
  });

  it('copies every record to the same partition with key, value, headers and timestamp, in order, once', async () => {
    const messages = await sampleMessages();
    messages.push({ key: 'ZTF21aapuacc', value: readFileSync(TRAILING_GARBAGE_FILE) });
    const producer = ipac.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: night.topic,
      messages: messages.map((m, i) => ({ ...m, timestamp: String(1_700_000_000_000 + i * 1000), headers: { origin: 'ipac', seq: String(i) } })),
    });
    await producer.disconnect();
    const source = await readTopic(ipac, night.topic, messages.length, { settleMs: 0 });
    const target = await readTopic(uw, night.topic, messages.length);
    expect(target).toHaveLength(messages.length);
    expectSamePartitions(source, target);
    const meta = await (async () => {
      const admin = uw.admin();
      await admin.connect();
      try {
        return await admin.fetchTopicMetadata({ topics: [night.topic] });
      } finally {
        await admin.disconnect();
      }
    })();
    expect(meta[0]!.partitions).toHaveLength(4);
    expect(mirror.stats.records).toBe(messages.length);
    expect(await metrics.getSingleMetricAsString('zads_mirror_records_total')).toMatch(new RegExp(`topic="${night.topic}"`));
  }, 180_000);

  it('finds a topic created upstream while it runs and mirrors it', async () => {
    const created = Date.now();
    await ensureTopic(ipac, { topic: late, partitions: 2 });
    const producer = ipac.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: late, messages: [{ key: 'ZTF18abcecyc', value: Buffer.from('late night') }] });
    await producer.disconnect();
    const target = await readTopic(uw, late, 1, { timeoutMs: 60_000, settleMs: 500 });
    expect(target.map((r) => r.message.value!.toString())).toEqual(['late night']);
    // Recorded for the issue note; the bench measures discovery latency, tests assert no timing.
    console.info(`late topic mirrored ${Date.now() - created} ms after it was created`);
  });
});

/** A topic's configs as Kafka's own kafka-configs tool describes them (the client has no DescribeConfigs). */
function describedConfigs(brokers: string[], topic: string): Map<string, string> {
  const r = spawnSync('bash', ['ops/kafka-class.sh', 'kafka.admin.ConfigCommand', '--bootstrap-server', brokers[0]!, '--entity-type', 'topics', '--entity-name', topic, '--describe', '--all'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kafka-configs --describe ${topic} failed: ${r.stderr}`);
  // Lines like "  retention.ms=604800000 sensitive=false synonyms={…}".
  return new Map([...r.stdout.matchAll(/^\s+([a-z0-9.]+)=(\S*) sensitive=/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('the topics the mirror creates on UW', () => {
  const night = uniqueNightTopic('20240104');
  const other = uniqueNightTopic('20240104');
  const source = { 'retention.ms': String(3600 * 1000), 'max.message.bytes': String(2 * 1024 * 1024), 'cleanup.policy': 'delete' };
  const mirrors: Mirror[] = [];

  afterAll(async () => {
    for (const m of mirrors) await m.close();
    await deleteTopics(ipac, [night.topic, other.topic]);
    await deleteTopics(uw, [night.topic, other.topic]);
  });

  async function mirrored(topic: string, targetTopicConfigs?: Record<string, string>): Promise<Map<string, string>> {
    await ensureTopic(ipac, { topic, partitions: 3, configs: source });
    expect(describedConfigs(IPAC_BROKERS, topic).get('retention.ms'), 'the source topic keeps alerts one hour').toBe(source['retention.ms']);
    const mirror = new Mirror({ from: cluster(IPAC_BROKERS), to: cluster(UW_BROKERS), topics: new RegExp(`^${topic}$`), name: `cfg-${topic}`, reportIntervalMs: 0, ...(targetTopicConfigs ? { targetTopicConfigs } : {}) });
    mirrors.push(mirror);
    await mirror.start();
    await waitForTopic(uw, topic);
    return describedConfigs(UW_BROKERS, topic);
  }

  it('keep ZADS\'s 7-day hot cache and 16 MiB messages, not the source topic\'s one-hour retention', async () => {
    const target = await mirrored(night.topic);
    expect({ retention: target.get('retention.ms'), maxMessage: target.get('max.message.bytes') }).toEqual({ retention: String(7 * 24 * 3600 * 1000), maxMessage: String(16 * 1024 * 1024) });
  }, 120_000);

  it('take the configured targetTopicConfigs over the defaults', async () => {
    const target = await mirrored(other.topic, { 'retention.ms': String(2 * 24 * 3600 * 1000) });
    expect({ retention: target.get('retention.ms'), maxMessage: target.get('max.message.bytes') }).toEqual({ retention: String(2 * 24 * 3600 * 1000), maxMessage: String(16 * 1024 * 1024) });
  }, 120_000);
});
