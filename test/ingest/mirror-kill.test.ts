import { afterAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../../src/kafka/index.ts';
import { exited, spawnZads as zads } from '../helpers/cli.ts';
import { seededRandom } from '../helpers/data.ts';
import { byPartition, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import { IPAC_BROKERS, UW_BROKERS } from '../helpers/services.ts';

const ALERTS = 20_000;
const KILLS = 3;
const ipac = kafkaFor(IPAC_BROKERS);
const uw = kafkaFor(UW_BROKERS);



describe('mirror survives kill -9', () => {
  const night = uniqueNightTopic('20240105');
  const mirrorArgs = ['mirror', '--from', IPAC_BROKERS.join(','), '--to', UW_BROKERS.join(','), '--topics', night.pattern.source, '--name', `kill-${night.programid}`];

  afterAll(async () => {
    await deleteTopics(ipac, [night.topic]);
    await deleteTopics(uw, [night.topic]);
  });

  it(`copies a ${ALERTS}-alert simulated night exactly once, per partition, through ${KILLS} SIGKILLs`, async () => {
    const random = seededRandom(night.programid);
    const producer = zads(['produce', '--simulate', String(ALERTS), '--seed', '11', '--night', '20240105', '--program', String(night.programid), '--brokers', IPAC_BROKERS.join(','), '--json']);
    const produced = exited(producer);

    let mirror = zads(mirrorArgs);
    let mirrorExit = exited(mirror);
    for (let k = 0; k < KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 3000 + random() * 9000));
      mirror.kill('SIGKILL');
      const { signal } = await mirrorExit;
      expect(signal).toBe('SIGKILL');
      mirror = zads(mirrorArgs);
      mirrorExit = exited(mirror);
    }
    const p = await produced;
    expect(p.code, p.output).toBe(0);
    expect(JSON.parse(p.output.trim().split('\n').filter((l) => l.startsWith('{')).pop()!)).toMatchObject({ alerts: ALERTS });

    const source = await readTopic(ipac, night.topic, ALERTS, { digestOnly: true, settleMs: 0, timeoutMs: 300_000 });
    expect(source).toHaveLength(ALERTS);
    const target = await readTopic(uw, night.topic, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 600_000 });
    mirror.kill('SIGTERM');
    await mirrorExit;

    expect(target).toHaveLength(ALERTS);
    const s = byPartition(source);
    const t = byPartition(target);
    expect([...t.keys()].sort((a, b) => a - b)).toEqual([...s.keys()].sort((a, b) => a - b));
    for (const [partition, records] of s) {
      const mirrored = t.get(partition)!;
      expect(mirrored.length, `partition ${partition} count`).toBe(records.length);
      expect(mirrored.map((r) => `${r.message.key}|${r.valueSha256}`), `partition ${partition} keys and bytes, in order`).toEqual(
        records.map((r) => `${r.message.key}|${r.valueSha256}`),
      );
    }
    expect(new Set(target.map((r) => r.valueSha256)).size).toBe(ALERTS);
  }, 900_000);
});
