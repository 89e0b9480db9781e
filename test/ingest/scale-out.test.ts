import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../../src/kafka/index.ts';
import { REPO_ROOT, exited, spawnZads as zads } from '../helpers/cli.ts';
import { byPartition, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import type { ReadRecord } from '../helpers/kafka.ts';
import { IPAC_BROKERS, UW_BROKERS } from '../helpers/services.ts';

/*
 * Scale-out by partitions: two processes with the same name share a night's 16 partitions through their
 * consumer group; one is killed with SIGKILL mid-night and the other takes its partitions over. Nothing may
 * be lost or written twice (the dead one's open transaction is aborted by the coordinator, and the survivor
 * starts each partition it is given at the committed position).
 */

const ALERTS = 6000;
const ipac = kafkaFor(IPAC_BROKERS);
const uw = kafkaFor(UW_BROKERS);

/** Same records, per partition, in the same order, once each. */
function expectSamePerPartition(source: ReadRecord[], target: ReadRecord[]): void {
  expect(target).toHaveLength(source.length);
  const s = byPartition(source);
  const t = byPartition(target);
  for (const [partition, records] of s) {
    expect(t.get(partition)?.map((r) => r.valueSha256), `partition ${partition}`).toEqual(records.map((r) => r.valueSha256));
  }
  expect(new Set(target.map((r) => r.valueSha256)).size).toBe(source.length);
}

function produce(night: { topic: string; programid: number }, brokers: string[], date: string) {
  return exited(zads(['produce', '--simulate', String(ALERTS), '--seed', '21', '--night', date, '--program', String(night.programid), '--brokers', brokers.join(','), '--json']));
}

describe('scale-out by partitions, one process killed', () => {
  const mirrorNight = uniqueNightTopic('20240111');
  const filterNight = uniqueNightTopic('20240112');

  afterAll(async () => {
    await deleteTopics(ipac, [mirrorNight.topic]);
    await deleteTopics(uw, [mirrorNight.topic, filterNight.topic, `${filterNight.topic}_all`]);
  });

  it('two mirrors of one name share a night; kill -9 of one leaves every record on the target once, in order', async () => {
    const name = `scale-${randomUUID().slice(0, 6)}`;
    const args = (instance: string) => ['mirror', '--from', IPAC_BROKERS.join(','), '--to', UW_BROKERS.join(','), '--topics', mirrorNight.pattern.source, '--name', name, '--instance', instance];
    const produced = produce(mirrorNight, IPAC_BROKERS, '20240111');
    const a = zads(args('a'));
    const aExit = exited(a);
    const b = zads(args('b'));
    const bExit = exited(b);
    try {
      await new Promise((resolve) => setTimeout(resolve, 8000));
      a.kill('SIGKILL');
      expect((await aExit).signal).toBe('SIGKILL');
      const p = await produced;
      expect(p.code, p.output).toBe(0);
      const source = await readTopic(ipac, mirrorNight.topic, ALERTS, { digestOnly: true, settleMs: 0, timeoutMs: 300_000 });
      const target = await readTopic(uw, mirrorNight.topic, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 300_000 });
      expectSamePerPartition(source, target);
    } finally {
      b.kill('SIGTERM');
      await bExit;
    }
  }, 900_000);

  it('two filter runners of one name share a night; kill -9 of one leaves each passing record in the output once', async () => {
    const filter = join(REPO_ROOT, 'test/filter/fixtures/passes-all.ts');
    const name = `scale-${randomUUID().slice(0, 6)}`;
    const args = (instance: string) => ['filter', '--filter', filter, '--brokers', UW_BROKERS.join(','), '--topics', filterNight.pattern.source, '--name', name, '--instance', instance];
    const produced = produce(filterNight, UW_BROKERS, '20240112');
    const a = zads(args('a'));
    const aExit = exited(a);
    const b = zads(args('b'));
    const bExit = exited(b);
    try {
      await new Promise((resolve) => setTimeout(resolve, 8000));
      a.kill('SIGKILL');
      expect((await aExit).signal).toBe('SIGKILL');
      const p = await produced;
      expect(p.code, p.output).toBe(0);
      const input = await readTopic(uw, filterNight.topic, ALERTS, { digestOnly: true, settleMs: 0, timeoutMs: 300_000 });
      const output = await readTopic(uw, `${filterNight.topic}_all`, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 300_000 });
      expectSamePerPartition(input, output);
    } finally {
      b.kill('SIGTERM');
      await bExit;
    }
  }, 900_000);
});
