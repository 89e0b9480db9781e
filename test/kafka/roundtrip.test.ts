import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KafkaClient as Kafka } from '../../src/kafka/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload, iterateTarball, readContainer } from '../../src/alert/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, goodAlertFiles } from '../helpers/data.ts';
import { IPAC_BROKERS } from '../helpers/services.ts';

describe('real alerts through the real "ipac" broker', () => {
  let kafka: Kafka;
  const topic = `ztf_test_${randomUUID()}`;
  const messages: { key: string; value: Buffer }[] = [];

  beforeAll(async () => {
    kafka = createKafka(clusterSchema.parse({ brokers: IPAC_BROKERS, clientId: 'zads-test' }));
    for await (const m of iterateTarball(SAMPLE_TARBALL)) {
      messages.push({ key: readContainer(m.bytes)[0]!.alert.objectId, value: m.bytes });
    }
    for (const f of goodAlertFiles()) {
      const bytes = readFileSync(f.path);
      if (f.path === TRAILING_GARBAGE_FILE) continue;
      messages.push({ key: readContainer(bytes)[0]!.alert.objectId, value: bytes });
    }
  });

  afterAll(async () => {
    await deleteTopics(kafka, [topic]);
  });

  it('produces every sample alert keyed by objectId and consumes them back byte-identical and decodable', async () => {
    expect(await ensureTopic(kafka, { topic, partitions: 4 })).toBe(4);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, messages });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `zads-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const received: { key: string; value: Buffer; partition: number }[] = [];
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: message.key!.toString(), value: message.value!, partition });
          if (received.length === messages.length) resolve();
        },
      });
    });
    await done;
    await consumer.disconnect();

    expect(received).toHaveLength(messages.length);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const receivedCandids: string[] = [];
    for (const r of received) {
      const [decoded] = await decodePayload(r.value, { source: { topic, partition: r.partition } });
      expect(decoded!.alert.objectId).toBe(r.key);
      receivedCandids.push(decoded!.alert.candid.toString());
    }
    // Two shared files hold the same alert (candid 472263571115115000) in schemas 3.0 and 3.3: compare as multisets.
    expect(receivedCandids.sort()).toEqual(messages.map((m) => readContainer(m.value)[0]!.alert.candid.toString()).sort());
    expect(received.map((r) => sha(r.value)).sort()).toEqual(messages.map((m) => sha(m.value)).sort());
    // Keyed by objectId: every alert of one object lands in one partition.
    const partitionsByObject = new Map<string, Set<number>>();
    for (const r of received) {
      const set = partitionsByObject.get(r.key) ?? new Set();
      set.add(r.partition);
      partitionsByObject.set(r.key, set);
    }
    for (const [objectId, parts] of partitionsByObject) expect(parts.size, objectId).toBe(1);
  });
});
