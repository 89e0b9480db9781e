import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE_FILE, Catalogue, readAll, tarballKey } from '../../../src/archive/index.ts';
import type { NightRow } from '../../../src/archive/index.ts';
import { closeNight } from '../../../src/archive/close/index.ts';
import { uploadNight } from '../../../src/archive/remote/index.ts';
import { startCloseSchedule } from '../../../src/archive/schedule.ts';
import { S3Store } from '../../../src/archive/storage/index.ts';
import { deleteTopics } from '../../../src/kafka/index.ts';
import { addAlerts, realAlerts, renumbered, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';
import { exited, runZads, spawnZads } from '../../helpers/cli.ts';
import { kafkaFor, uniqueNightTopic } from '../../helpers/kafka.ts';
import { createS3Proxy } from '../../helpers/s3proxy.ts';
import type { S3ProxyServer } from '../../helpers/s3proxy.ts';
import { UW_BROKERS } from '../../helpers/services.ts';

const PART = 5 * 1024 * 1024;
const uw = kafkaFor(UW_BROKERS);

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The night's catalogue row, read as another process would (the writer keeps running). */
function nightRow(dataDir: string, night: string, programid: number): NightRow | undefined {
  try {
    const c = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    try {
      return c.night(night, programid);
    } finally {
      c.close();
    }
  } catch {
    return undefined;
  }
}

/** Segment files still hold their bytes (not hollowed out by a prune). */
function segmentsWhole(t: TempArchive, night: string): boolean {
  const segs = t.archive.catalogue.segments().filter((s) => s.night === night);
  return segs.length > 0 && segs.every((s) => statSync(join(t.dataDir, s.key)).blocks * 512 >= s.sizeBytes);
}

describe('S3 down: closes go on, uploads wait, nothing is pruned that S3 does not hold', () => {
  let s3: S3ProxyServer;

  beforeAll(async () => {
    // A dedicated S3Proxy, stopped and started by these tests; the shared one on 9000 is not touched.
    s3 = await createS3Proxy();
  });
  afterAll(async () => {
    await s3?.destroy();
  });

  describe('zads archive run with S3 configured', () => {
    const night = uniqueNightTopic('20240109');
    const ALERTS = 200;
    const dataDir = mkdtempSync(join(tmpdir(), 'zads-s3-down-'));
    const bucket = `zads-s3down-${randomUUID().slice(0, 8)}`;
    const configFile = join(dataDir, '..', `zads-s3-down-${randomUUID()}.json`);
    let run: ChildProcess | undefined;

    afterAll(async () => {
      if (run && run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
      await deleteTopics(uw, [night.topic]);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    });

    it('archives and closes a night while S3 is down, keeps it local, and uploads it by itself when S3 returns', async () => {
      s3.createBucket(bucket);
      const s3Config = s3.config(bucket, 'ztf/');
      writeFileSync(
        configFile,
        JSON.stringify({
          dataDir,
          s3: s3Config,
          // Close the night as soon as it is idle, every 2 s; keep no night local once it is safely in S3.
          archive: { closeSchedule: '*/2 * * * * *', closeIdleMinutes: 0, keepLocalNights: 0 },
        }),
      );
      const produced = await exited(spawnZads(['produce', '--simulate', String(ALERTS), '--seed', '9', '--night', '20240109', '--program', String(night.programid), '--brokers', UW_BROKERS.join(','), '--json']));
      expect(produced.code, produced.output).toBe(0);

      // S3 is down from the start.
      run = spawnZads(['archive', 'run', '--config', configFile, '--brokers', UW_BROKERS.join(','), '--topics', night.pattern.source, '--group', `s3-down-${night.programid}`]);
      let printed = '';
      run.stderr?.on('data', (d: Buffer) => (printed += d.toString()));
      const runExit = exited(run);

      // Every alert archived, and the night closed with all of them, without S3.
      await waitFor('the night closed with every alert', () => {
        const row = nightRow(dataDir, '20240109', night.programid);
        return row?.state === 'closed' && row.alerts === ALERTS && row.tarballAlerts === ALERTS;
      });
      await waitFor('the S3-down line', () => printed.includes('S3 unavailable (SERVICE_UNAVAILABLE)'));
      expect(printed).toMatch(
        new RegExp(`upload of night 20240109 programid ${night.programid} failed \\(SERVICE_UNAVAILABLE\\): cannot reach S3 to \\w+ \\S+ in s3://${bucket}/ztf/: .*ECONNREFUSED`),
      );
      expect(printed).toMatch(/local copies kept \(not pruned\); trying again in 5s \(backing off to every 300s\)/);
      const closed = nightRow(dataDir, '20240109', night.programid)!;
      expect(closed.stored).toBe('local');
      const localTarball = readFileSync(join(dataDir, tarballKey('20240109', night.programid)));
      expect(localTarball.length).toBe(closed.tarballBytes);
      expect(run.exitCode).toBeNull();

      await s3.start();
      // Uploaded, checked and (keepLocalNights 0) pruned, with no one asking.
      await waitFor('the night uploaded and pruned', () => nightRow(dataDir, '20240109', night.programid)?.stored === 's3');
      await waitFor('the S3-back line', () => printed.includes('S3 reachable again'));
      const store = new S3Store(s3Config);
      try {
        const there = await readAll(await store.get(tarballKey('20240109', night.programid)));
        expect(there.equals(localTarball)).toBe(true);
      } finally {
        await store.close();
      }
      run.kill('SIGTERM');
      const end = await runExit;
      expect(end.code, end.output).toBe(0);
      expect(end.output).toContain(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);

      // The pruned night checks out against S3.
      const verify = runZads(['archive', 'verify', '--config', configFile]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('1 night(s) checked: no differences');
    }, 180_000);
  });

  describe('the close schedule in-process', () => {
    let t: TempArchive;
    const bucket = `zads-s3down-${randomUUID().slice(0, 8)}`;
    const UPLOADED = '20180819';
    const WAITING = '20180820';
    const lines: { level: number; msg: string; retryInMs?: number; err?: { code: string } }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as (typeof lines)[number]);
          done();
        },
      }),
    );

    beforeAll(async () => {
      s3.createBucket(bucket);
      t = await tempArchive({ s3: s3.config(bucket, 'b/') });
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('keeps an uploaded night local while S3 cannot be checked, and retries uploads and pruning with a capped backoff until S3 is back', async () => {
      const alerts = await realAlerts();
      await addAlerts(t.archive, alerts.slice(0, 20), { night: UPLOADED, programid: 1, source: 'p0' });
      await addAlerts(t.archive, [...renumbered(alerts, 20, 710_000_000_000_000_000n)], { night: WAITING, programid: 1, source: 'p0' });
      await closeNight(t.archive, { night: UPLOADED, programid: 1 });
      await s3.start();
      expect(await uploadNight(t.archive, { night: UPLOADED, programid: 1, partSizeBytes: PART })).toMatchObject({ complete: true, stored: 'local+s3' });
      await s3.stop();

      // A cron that will not fire during the test: whatever happens after runOnce is the retry's doing.
      const schedule = startCloseSchedule(t.archive, {
        cronExpression: '0 0 1 1 *',
        idleMinutes: 0,
        remote: { keepLocalNights: 0, partSizeBytes: PART },
        remoteRetryMs: 500,
        remoteRetryMaxMs: 2000,
        logger,
      });
      try {
        const tick = await schedule.runOnce();
        // The close needs only the local disk.
        expect(tick.closed.map((c) => `${c.night}:${c.alerts}`)).toEqual([`${WAITING}:20`]);
        expect(tick.failed).toEqual([]);
        // The upload failed, saying S3 cannot be reached; nothing was pruned.
        expect(tick.remote!.failed).toMatchObject([{ night: WAITING, programid: 1, error: { code: 'SERVICE_UNAVAILABLE', retriable: true } }]);
        expect(tick.remote!.failed[0]!.error.message).toMatch(new RegExp(`^cannot reach S3 to \\w+ \\S+ in s3://${bucket}/b/: .*ECONNREFUSED`));
        expect(tick.remote!.pruned!.pruned).toEqual([]);
        expect(tick.remote!.pruned!.kept).toEqual([
          expect.objectContaining({ night: UPLOADED, programid: 1, reason: expect.stringMatching(/^S3 unavailable: cannot reach S3/), error: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) }),
          { night: WAITING, programid: 1, reason: 'not uploaded to S3' },
        ]);
        for (const n of [UPLOADED, WAITING]) {
          const row = t.archive.catalogue.night(n, 1)!;
          expect(row.stored).toBe(n === UPLOADED ? 'local+s3' : 'local');
          expect(statSync(join(t.dataDir, row.tarballKey!)).size).toBe(row.tarballBytes);
          expect(segmentsWhole(t, n)).toBe(true);
        }
        const tarballs = new Map([UPLOADED, WAITING].map((n) => [n, readFileSync(join(t.dataDir, tarballKey(n, 1)))]));

        // Retried alone while S3 stays down: 0.5 s, 1 s, then every 2 s at most.
        const downLines = () => lines.filter((l) => l.msg.startsWith('S3 unavailable (SERVICE_UNAVAILABLE)'));
        await waitFor('three tries', () => downLines().length >= 4);
        expect(downLines().map((l) => l.retryInMs).slice(0, 4)).toEqual([500, 1000, 2000, 2000]);
        expect(downLines()[0]!.level).toBe(40); // warn once; the retries that follow at info
        expect(downLines().slice(1).every((l) => l.level === 30)).toBe(true);
        expect(t.archive.catalogue.night(UPLOADED, 1)!.stored).toBe('local+s3');
        expect(segmentsWhole(t, UPLOADED)).toBe(true);

        await s3.start();
        await waitFor('both nights in S3 and pruned', () => [UPLOADED, WAITING].every((n) => t.archive.catalogue.night(n, 1)?.stored === 's3'));
        // The recovery is logged once the whole retry (uploads, then pruning) has ended, a moment after the catalogue says so.
        await waitFor('the recovery logged', () => lines.some((l) => l.msg.startsWith('S3 reachable again')));
        for (const [n, local] of tarballs) {
          expect((await readAll(await t.archive.remote!.get(tarballKey(n, 1)))).equals(local)).toBe(true);
          expect(await t.archive.local.head(tarballKey(n, 1))).toBeUndefined();
        }
      } finally {
        await schedule.stop();
      }
    }, 120_000);
  });
});
