import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KafkaClient } from '../../src/kafka/index.ts';
import { REPO_ROOT, backgroundZads, simulateNight } from '../helpers/cli.ts';
import { byPartition, deleteProgramTopicsAfterTest, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import type { ReadRecord, UniqueNightTopic } from '../helpers/kafka.ts';
import { IPAC_BROKERS, UW_BROKERS } from '../helpers/services.ts';
import { sleep } from '../helpers/wait.ts';

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

/**
 * The night produced (seed 21) while instances "a" and "b" of one process share it; 8 s in, "a" is killed
 * with SIGKILL; then the output topic must hold the input's records, per partition in order, once each.
 */
async function killOneOfTwo(o: {
  night: UniqueNightTopic;
  date: string;
  args: (instance: string) => string[];
  input: { kafka: KafkaClient; brokers: string[]; topic: string };
  output: { kafka: KafkaClient; topic: string };
}): Promise<void> {
  const produced = simulateNight({ alerts: ALERTS, seed: 21, night: o.date, programid: o.night.programid, brokers: o.input.brokers });
  const a = backgroundZads(o.args('a'));
  const b = backgroundZads(o.args('b'));
  try {
    await sleep(8000);
    a.child.kill('SIGKILL');
    expect((await a.exit).signal).toBe('SIGKILL');
    const p = await produced;
    expect(p.code, p.output).toBe(0);
    const source = await readTopic(o.input.kafka, o.input.topic, ALERTS, { digestOnly: true, settleMs: 0, timeoutMs: 300_000 });
    const target = await readTopic(o.output.kafka, o.output.topic, ALERTS, { digestOnly: true, settleMs: 5000, timeoutMs: 300_000 });
    expectSamePerPartition(source, target);
  } finally {
    b.child.kill('SIGTERM');
    await b.exit;
  }
}

describe('scale-out by partitions, one process killed', () => {
  it('two mirrors of one name share a night; kill -9 of one leaves every record on the target once, in order', async () => {
    const night = uniqueNightTopic('20240111');
    deleteProgramTopicsAfterTest(ipac, night.programid);
    deleteProgramTopicsAfterTest(uw, night.programid);
    const name = `scale-${randomUUID().slice(0, 6)}`;
    await killOneOfTwo({
      night,
      date: '20240111',
      args: (instance) => ['mirror', '--from', IPAC_BROKERS.join(','), '--to', UW_BROKERS.join(','), '--topics', night.pattern.source, '--name', name, '--instance', instance],
      input: { kafka: ipac, brokers: IPAC_BROKERS, topic: night.topic },
      output: { kafka: uw, topic: night.topic },
    });
  }, 900_000);

  it('two filter runners of one name share a night; kill -9 of one leaves each passing record in the output once', async () => {
    const night = uniqueNightTopic('20240112');
    deleteProgramTopicsAfterTest(uw, night.programid);
    const filter = join(REPO_ROOT, 'test/filter/fixtures/passes-all.ts');
    const name = `scale-${randomUUID().slice(0, 6)}`;
    await killOneOfTwo({
      night,
      date: '20240112',
      args: (instance) => ['filter', '--filter', filter, '--brokers', UW_BROKERS.join(','), '--topics', night.pattern.source, '--name', name, '--instance', instance],
      input: { kafka: uw, brokers: UW_BROKERS, topic: night.topic },
      output: { kafka: uw, topic: `${night.topic}_all` },
    });
  }, 900_000);
});
