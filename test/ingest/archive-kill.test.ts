import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archivedCount } from '../helpers/archive.ts';
import { iterateTarball, readContainer } from '../../src/alert/index.ts';
import { Catalogue, CATALOGUE_FILE, tarballKey } from '../../src/archive/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { REPO_ROOT, exited, spawnZads as zads } from '../helpers/cli.ts';
import { seededRandom } from '../helpers/data.ts';
import { kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { createHash } from 'node:crypto';

const ALERTS = 20_000;
const KILLS = 3;
const uw = kafkaFor(UW_BROKERS);




describe('archive ingest survives kill -9', () => {
  const night = uniqueNightTopic('20240106');
  const dataDir = mkdtempSync(join(tmpdir(), 'zads-archive-kill-'));
  const runArgs = ['archive', 'run', '--brokers', UW_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', `kill-${night.programid}`];

  afterAll(async () => {
    await deleteTopics(uw, [night.topic]);
    // 2.3 GB of segments and tarball a run: left in /tmp they filled the disk after a few runs.
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`archives a ${ALERTS}-alert night once, byte-identical, through ${KILLS} SIGKILLs, and closes it into a UW tarball`, async () => {
    const random = seededRandom(night.programid);
    const producer = zads(['produce', '--simulate', String(ALERTS), '--seed', '12', '--night', '20240106', '--program', String(night.programid), '--brokers', UW_BROKERS.join(','), '--json']);
    const produced = exited(producer);
    let run = zads(runArgs);
    let runExit = exited(run);
    for (let k = 0; k < KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 3000 + random() * 9000));
      run.kill('SIGKILL');
      expect((await runExit).signal).toBe('SIGKILL');
      run = zads(runArgs);
      runExit = exited(run);
    }
    const p = await produced;
    expect(p.code, p.output).toBe(0);

    const source = await readTopic(uw, night.topic, ALERTS, { digestOnly: true, withCandid: true, settleMs: 0, timeoutMs: 300_000 });
    expect(source).toHaveLength(ALERTS);
    const deadline = Date.now() + 600_000;
    while (archivedCount(dataDir, '20240106', night.programid) < ALERTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    run.kill('SIGTERM');
    const last = await runExit;
    expect(last.code, last.output).toBe(0);

    const catalogue = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    const rows = [...catalogue.alertsOfNight('20240106', night.programid)];
    catalogue.close();
    expect(rows).toHaveLength(ALERTS);
    const expected = new Map(source.map((r) => [r.candid!, r.valueSha256]));
    expect(new Set(rows.map((r) => r.candid.toString()))).toEqual(new Set(expected.keys()));

    const close = spawnSync(process.execPath, [`${REPO_ROOT}bin/zads.js`, 'archive', 'close', '--data', dataDir, '--night', '20240106', '--program', String(night.programid), '--json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(close.status, close.stderr).toBe(0);
    const seen = new Map<string, string>();
    for await (const member of iterateTarball(join(dataDir, tarballKey('20240106', night.programid)))) {
      const candid = readContainer(member.bytes)[0]!.alert.candid.toString();
      expect(member.name).toBe(`${candid}.avro`);
      expect(seen.has(candid), `candid ${candid} twice in the tarball`).toBe(false);
      seen.set(candid, createHash('sha256').update(member.bytes).digest('hex'));
    }
    expect(seen).toEqual(expected);
  }, 1_200_000);
});
