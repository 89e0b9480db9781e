import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZadsError } from '../../src/errors.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { ReplayTargetPolicy } from '../../src/replay/index.ts';
import { addAlerts, realAlerts, tempArchive } from '../helpers/archive.ts';
import type { TempArchive } from '../helpers/archive.ts';
import { runZads } from '../helpers/cli.ts';
import { endOffsets, kafkaFor, topicsHolding, withAdmin } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';

/*
 * `zads replay` refuses the targets the API refuses, with the same words and exit 2, before it opens
 * the archive or makes a Kafka client; --allow-any-topic lets it through and the log says who used it.
 */

const NIGHT = '20240109';
const uw = kafkaFor(UW_BROKERS);

/** What the policy (and so the API) answers for the topic: the CLI must say the same. */
function policyMessage(topic: string, programid: number): string {
  try {
    new ReplayTargetPolicy().resolve({ night: NIGHT, programid, topic, caller: 'test' });
  } catch (err) {
    if (isZadsError(err)) return err.message;
  }
  throw new Error(`${topic} is not refused`);
}

describe('zads replay: the replay target policy', () => {
  let temp: TempArchive;
  const programid = 700_000 + Math.floor(Math.random() * 1e6);
  const nightly = `ztf_${NIGHT}_programid${programid}`;
  const internal = `__zads-test-cli-targets-${randomUUID().slice(0, 8)}`;
  const base = ['replay', '--night', NIGHT, '--program', String(programid), '--brokers', UW_BROKERS.join(','), '--partitions', '1', '--json'];

  beforeAll(async () => {
    temp = await tempArchive();
    await addAlerts(temp.archive, (await realAlerts()).slice(0, 4), { night: NIGHT, programid });
    await topicsHolding(uw, [nightly, internal], [{ key: 'k', value: 'live' }], 1);
  }, 120_000);

  afterAll(async () => {
    await deleteTopics(uw, [nightly, internal, `${nightly}_replay`]).catch(() => undefined);
    await temp?.cleanup();
  });

  it('refuses a nightly topic, a filter output, an internal topic and one outside replay.allowedTopics: exit 2, the API\'s words, nothing written', async () => {
    const cases: [string, string][] = [
      [nightly, 'upstream-nightly-topic'],
      [`${nightly}_purity`, 'filter-output-topic'],
      [internal, 'internal-topic'],
      ['__consumer_offsets', 'internal-topic'],
      [`zads-test-elsewhere-${programid}`, 'not-allowed-topic'],
    ];
    const before = { nightly: await endOffsets(uw, nightly), internal: await endOffsets(uw, internal) };
    for (const [topic, rule] of cases) {
      // The refusal comes before the archive is opened or any Kafka client made.
      const r = runZads([...base, '--topic', topic], { env: { ZADS_DATA_DIR: temp.dataDir } });
      expect(r.status, `${topic}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim()).toBe(`zads: ${policyMessage(topic, programid)} (topic=${topic} rule=${rule})`);
      expect(r.stdout).toBe('');
    }
    expect(await endOffsets(uw, nightly)).toEqual(before.nightly);
    expect(await endOffsets(uw, internal)).toEqual(before.internal);
    const topics = await withAdmin(uw, (admin) => admin.listTopics());
    expect(topics).not.toContain(`${nightly}_purity`);
    expect(topics).not.toContain(`zads-test-elsewhere-${programid}`);
  });

  it('writes the night\'s replay topic without a flag, and a nightly topic with --allow-any-topic, which it logs', async () => {
    const plain = runZads([...base, '--data', temp.dataDir], { timeoutMs: 120_000 });
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ topic: `${nightly}_replay`, state: 'done', sent: 4 });

    const before = await endOffsets(uw, nightly);
    const forced = runZads([...base, '--data', temp.dataDir, '--topic', nightly, '--allow-any-topic'], { timeoutMs: 120_000, env: { ZADS_LOG_LEVEL: 'warn', USER: 'night-operator' } });
    expect(forced.status, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ topic: nightly, state: 'done', sent: 4 });
    expect(Number((await endOffsets(uw, nightly))[0])).toBeGreaterThan(Number(before[0]));
    const warning = forced.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.component === 'replay-target-policy');
    expect(warning).toMatchObject({
      level: 40,
      caller: 'zads replay --allow-any-topic (user night-operator)',
      topic: nightly,
      rule: 'upstream-nightly-topic',
      msg: `replay target policy overridden by zads replay --allow-any-topic (user night-operator): writing ${nightly}, which breaks upstream-nightly-topic`,
    });
  }, 300_000);
});
