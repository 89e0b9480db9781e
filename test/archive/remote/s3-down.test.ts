import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CATALOGUE_FILE, Catalogue, readAll, tarballKey } from '../../../src/archive/index.ts';
import type { NightRow } from '../../../src/archive/index.ts';
import { closeNight } from '../../../src/archive/close/index.ts';
import { uploadNight } from '../../../src/archive/remote/index.ts';
import { startCloseSchedule } from '../../../src/archive/schedule.ts';
import { S3Store } from '../../../src/archive/storage/index.ts';
import { addAlerts, realAlerts, renumbered, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';
import { backgroundZads, produceSimulatedNight, runZads } from '../../helpers/cli.ts';
import { deleteProgramTopicsAfterTest, kafkaFor, uniqueNightTopic } from '../../helpers/kafka.ts';
import { s3ProxyForTest } from '../../helpers/s3proxy.ts';
import { UW_BROKERS } from '../../helpers/services.ts';
import { waitFor } from '../../helpers/wait.ts';

const PART = 5 * 1024 * 1024;
const uw = kafkaFor(UW_BROKERS);
/** Each step waited for: up to 120 s, looked at every 250 ms. */
const WAIT = { timeoutMs: 120_000, intervalMs: 250 };

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
  // Each test has a dedicated S3Proxy, which it stops and starts; the shared one on 9000 is not touched.

  describe('zads archive run with S3 configured', () => {
    const ALERTS = 200;

    it('archives and closes a night while S3 is down, keeps it local, and uploads it by itself when S3 returns', async () => {
      const s3 = await s3ProxyForTest();
      const night = uniqueNightTopic('20240109');
      deleteProgramTopicsAfterTest(uw, night.programid);
      const dataDir = mkdtempSync(join(tmpdir(), 'zads-s3-down-'));
      const bucket = `zads-s3down-${randomUUID().slice(0, 8)}`;
      const configFile = join(dataDir, '..', `zads-s3-down-${randomUUID()}.json`);
      onTestFinished(() => {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(configFile, { force: true });
      });
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
      await produceSimulatedNight({ alerts: ALERTS, seed: 9, night: '20240109', programid: night.programid, brokers: UW_BROKERS });

      // S3 is down from the start.
      const run = backgroundZads(['archive', 'run', '--config', configFile, '--brokers', UW_BROKERS.join(','), '--topics', night.pattern.source, '--group', `s3-down-${night.programid}`]);

      // Every alert archived, and the night closed with all of them, without S3.
      await waitFor('the night closed with every alert', () => {
        const row = nightRow(dataDir, '20240109', night.programid);
        return row?.state === 'closed' && row.alerts === ALERTS && row.tarballAlerts === ALERTS;
      }, WAIT);
      await waitFor('the S3-down line', () => run.stderr().includes('S3 unavailable (SERVICE_UNAVAILABLE)'), WAIT);
      expect(run.stderr()).toMatch(
        new RegExp(`upload of night 20240109 programid ${night.programid} failed \\(SERVICE_UNAVAILABLE\\): cannot reach S3 to \\w+ \\S+ in s3://${bucket}/ztf/: .*ECONNREFUSED`),
      );
      expect(run.stderr()).toMatch(/local copies kept \(not pruned\); trying again in 5s \(backing off to every 300s\)/);
      const closed = nightRow(dataDir, '20240109', night.programid)!;
      expect(closed.stored).toBe('local');
      const localTarball = readFileSync(join(dataDir, tarballKey('20240109', night.programid)));
      expect(localTarball.length).toBe(closed.tarballBytes);
      expect(run.child.exitCode).toBeNull();

      await s3.start();
      // Uploaded, checked and (keepLocalNights 0) pruned, with no one asking.
      await waitFor('the night uploaded and pruned', () => nightRow(dataDir, '20240109', night.programid)?.stored === 's3', WAIT);
      await waitFor('the S3-back line', () => run.stderr().includes('S3 reachable again'), WAIT);
      const store = new S3Store(s3Config);
      try {
        const there = await readAll(await store.get(tarballKey('20240109', night.programid)));
        expect(there.equals(localTarball)).toBe(true);
      } finally {
        await store.close();
      }
      run.child.kill('SIGTERM');
      const end = await run.exit;
      expect(end.code, end.output).toBe(0);
      expect(end.output).toContain(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);

      // The pruned night checks out against S3.
      const verify = runZads(['archive', 'verify', '--config', configFile]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('1 night(s) checked: no differences');
    }, 180_000);
  });

  describe('the close schedule in-process', () => {
    const UPLOADED = '20180819';
    const WAITING = '20180820';

    it('keeps an uploaded night local while S3 cannot be checked, and retries uploads and pruning with a capped backoff until S3 is back', async () => {
      const s3 = await s3ProxyForTest();
      const bucket = `zads-s3down-${randomUUID().slice(0, 8)}`;
      s3.createBucket(bucket);
      const t = await tempArchive({ s3: s3.config(bucket, 'b/') });
      onTestFinished(() => t.cleanup());
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
        await waitFor('three tries', () => downLines().length >= 4, WAIT);
        expect(downLines().map((l) => l.retryInMs).slice(0, 4)).toEqual([500, 1000, 2000, 2000]);
        expect(downLines()[0]!.level).toBe(40); // warn once; the retries that follow at info
        expect(downLines().slice(1).every((l) => l.level === 30)).toBe(true);
        expect(t.archive.catalogue.night(UPLOADED, 1)!.stored).toBe('local+s3');
        expect(segmentsWhole(t, UPLOADED)).toBe(true);

        await s3.start();
        await waitFor('both nights in S3 and pruned', () => [UPLOADED, WAITING].every((n) => t.archive.catalogue.night(n, 1)?.stored === 's3'), WAIT);
        // The recovery is logged once the whole retry (uploads, then pruning) has ended, a moment after the catalogue says so.
        await waitFor('the recovery logged', () => lines.some((l) => l.msg.startsWith('S3 reachable again')), WAIT);
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
