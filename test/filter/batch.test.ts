import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterateTarball, readInputs } from '../../src/alert/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { InProcessJudge, ListSink, TarballSink, archivedNight, bright, purity, runBatch } from '../../src/filter/index.ts';
import type { BatchItem, BatchReadError } from '../../src/filter/index.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { archiveAlerts, tarballAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

const NIGHT = '20180819';
const PROGRAMID = 1;
const ctx = { source: {}, signal: new AbortController().signal };

async function listed(inputs: AsyncIterable<BatchItem | BatchReadError>): Promise<string[]> {
  const lines: string[] = [];
  await runBatch({ judge: new InProcessJudge([purity, bright]), inputs, sink: new ListSink(['purity', 'bright'], (l) => lines.push(l)) });
  return lines.sort();
}

describe('batch mode over an archived night, a UW tarball and files', () => {
  let dir: string;
  let archive: Archive;
  let alerts: SampleAlert[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zads-filter-'));
    alerts = await tarballAlerts();
    archive = await openArchive({ dataDir: join(dir, 'data'), writer: true });
    await archiveAlerts(archive, alerts, NIGHT, PROGRAMID);
  });

  afterAll(async () => {
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the same alerts from the archived night as from the tarball it came from', async () => {
    const fromNight = await listed(archivedNight(archive, NIGHT, PROGRAMID));
    const fromTarball = await listed(readInputs([SAMPLE_TARBALL]));
    expect(fromNight).toEqual(fromTarball);
    const expected = [
      ...alerts.filter((a) => purity.test(a.decoded.alert, ctx)).map((a) => `purity  ${a.candid}  ${a.objectId}`),
      ...alerts.filter((a) => bright.test(a.decoded.alert, ctx)).map((a) => `bright  ${a.candid}  ${a.objectId}`),
    ].sort();
    expect(fromNight).toEqual(expected);
  });

  it('writes a UW-layout tarball per filter: <candid>.avro members holding the original bytes', async () => {
    const paths = [join(dir, 'night_purity.tar.gz'), join(dir, 'night_bright.tar.gz')];
    const sink = new TarballSink(paths);
    const report = await runBatch({ judge: new InProcessJudge([purity, bright]), inputs: archivedNight(archive, NIGHT, PROGRAMID), sink });
    const written = await sink.finish();
    for (const [i, f] of [purity, bright].entries()) {
      // The archive yields its alerts in candid order.
      const expected = alerts.filter((a) => f.test(a.decoded.alert, ctx)).sort((a, b) => (BigInt(a.candid) < BigInt(b.candid) ? -1 : 1));
      const members: { name: string; bytes: Buffer }[] = [];
      for await (const m of iterateTarball(paths[i]!)) members.push({ name: m.name, bytes: m.bytes });
      expect(members.map((m) => m.name)).toEqual(expected.map((a) => `${a.candid}.avro`));
      members.forEach((m, k) => expect(m.bytes.equals(expected[k]!.bytes)).toBe(true));
      expect(written[i]).toMatchObject({ path: paths[i], members: expected.length, duplicates: 0 });
      expect(report.passed[f.name]).toBe(expected.length);
    }
  });

  it('says clearly when the night is not archived', async () => {
    const err = await (async () => {
      for await (const item of archivedNight(archive, '20180820', PROGRAMID)) void item;
    })().catch((e: unknown) => e);
    expect(isZadsError(err, 'INPUT_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('night 20180820 programid 1 is not in the archive');
  });
});
