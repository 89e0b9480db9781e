import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTopics } from '../../src/kafka/index.ts';
import { addAlerts, realAlerts, renumbered, tempArchive } from '../helpers/archive.ts';
import type { TempArchive } from '../helpers/archive.ts';
import { exited, spawnZads as zads } from '../helpers/cli.ts';
import { seededRandom } from '../helpers/data.ts';
import { kafkaFor, readTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';

const uw = kafkaFor(UW_BROKERS);
const ALERTS = 10_000;
const NIGHT = '20240109';



describe('replay survives kill -9', () => {
  let temp: TempArchive;
  const programid = 500_000 + Math.floor(Math.random() * 1e6);
  // The night's own replay topic (unique by its program id): the one the target policy allows by default.
  const topic = `ztf_${NIGHT}_programid${programid}_replay`;
  let candids: string[];

  beforeAll(async () => {
    temp = await tempArchive();
    const alerts = [...renumbered(await realAlerts(), ALERTS, 8_200_000_000_000_000_000n)];
    for (let i = 0; i < alerts.length; i += 500) {
      await addAlerts(temp.archive, alerts.slice(i, i + 500), { night: NIGHT, programid, source: `part${i}`, kafkaTimestamp: 1_700_000_000_000 + i });
    }
    candids = alerts.map((a) => a.candid.toString());
  }, 300_000);

  afterAll(async () => {
    await deleteTopics(uw, [topic]);
    await temp.cleanup();
  });

  it(`resumes a ${ALERTS}-alert replay killed three times with no gap and no duplicate`, async () => {
    const random = seededRandom(programid);
    const id = `kill-${programid}`;
    const args = ['replay', '--data', temp.dataDir, '--night', NIGHT, '--program', String(programid), '--brokers', UW_BROKERS.join(','), '--topic', topic, '--partitions', '4', '--id', id, '--json'];
    for (let k = 0; k < 3; k++) {
      const child = zads([...args, '--rate', '800']);
      const done = exited(child);
      await new Promise((r) => setTimeout(r, 2500 + random() * 3000));
      child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
    }
    const last = await exited(zads(args));
    expect(last.code, last.output).toBe(0);
    const report = JSON.parse(last.output.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
    expect(report.sentTotal).toBe(ALERTS);
    expect(report.sent).toBeLessThan(ALERTS);

    const got = await readTopic(uw, topic, ALERTS, { digestOnly: true, settleMs: 3000 });
    const sent = got.map((r) => r.message.headers!['zads-candid']!.toString());
    expect(sent).toHaveLength(ALERTS);
    expect(new Set(sent).size).toBe(ALERTS);
    expect(new Set(sent)).toEqual(new Set(candids));
  }, 600_000);
});
