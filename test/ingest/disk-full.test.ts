import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archivedCount } from '../helpers/archive.ts';
import { CATALOGUE_FILE, openArchive } from '../../src/archive/index.ts';
import { backgroundZads, produceSimulatedNight, runZads } from '../helpers/cli.ts';
import type { Background } from '../helpers/cli.ts';
import { deleteProgramTopicsAfterTest, kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import type { UniqueNightTopic } from '../helpers/kafka.ts';
import { freePort } from '../helpers/java.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { freeBytes, mountTmpfsForTest, resizeTmpfs } from '../helpers/tmpfs.ts';
import { waitFor } from '../helpers/wait.ts';

/** Simulated alerts are ~75 KB each: 400 make a ~30 MB night, far more than the space left. */
const ALERTS = 400;
const MiB = 1024 * 1024;
const uw = kafkaFor(UW_BROKERS);
/** Each step waited for: up to 150 s, looked at every 250 ms. */
const WAIT = { timeoutMs: 150_000, intervalMs: 250 };

async function metric(port: number, name: string): Promise<string | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1];
}

/**
 * What a user checks once the run is over: exactly the produced candids, each once, with the bytes that
 * were sent, and `zads archive verify` finds no difference between segments and catalogue.
 */
async function expectExactlyTheNight(dataDir: string, topic: string, date: string, programid: number): Promise<void> {
  const source = await readTopic(uw, topic, ALERTS, { digestOnly: true, withCandid: true, settleMs: 0 });
  expect(source).toHaveLength(ALERTS);
  const archive = await openArchive({ dataDir });
  try {
    const rows = [...archive.catalogue.alertsOfNight(date, programid)];
    expect(rows).toHaveLength(ALERTS);
    const expected = new Map(source.map((r) => [r.candid!, r.valueSha256]));
    const archived = new Map<string, string>();
    for (const row of rows) {
      const bytes = await archive.segments.read(row.segment, row.byteOffset, row.byteLength);
      archived.set(row.candid.toString(), createHash('sha256').update(bytes).digest('hex'));
    }
    expect(archived).toEqual(expected);
    // No byte twice: each segment is exactly its rows, one after the other (a batch tried again after a
    // failed catalogue commit must not leave its first copy behind).
    const segments = archive.catalogue.segments().filter((s) => s.night === date && s.programid === programid);
    for (const seg of segments) {
      const own = rows.filter((r) => r.segment === seg.key).sort((a, b) => a.byteOffset - b.byteOffset);
      let end = 0;
      for (const r of own) {
        expect(r.byteOffset, `${seg.key}: alert ${r.candid} starts at ${r.byteOffset}, the one before ends at ${end}`).toBe(end);
        end += r.byteLength;
      }
      expect(end, `${seg.key} holds ${seg.sizeBytes} bytes, its alerts ${end}`).toBe(seg.sizeBytes);
      expect(statSync(join(dataDir, seg.key)).size).toBe(seg.sizeBytes);
    }
    let next = 0n;
    for (let p = 0; p < 16; p++) next += archive.catalogue.position(topic, p) ?? 0n;
    expect(next).toBe(BigInt(ALERTS));
  } finally {
    await archive.close();
  }
  const verify = runZads(['archive', 'verify', '--data', dataDir]);
  expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout).toContain('no differences');
}

/** Once space is back: every alert archived, and the run says it resumed. */
async function resumed(run: Background, dataDir: string, date: string, programid: number): Promise<void> {
  await waitFor('every alert archived', () => archivedCount(dataDir, date, programid) >= ALERTS, WAIT);
  await waitFor('the resumed line', () => run.printed().includes('archive disk has space again'), WAIT);
}

/** SIGTERM: the run ends cleanly, having archived the whole night once, and the archive holds exactly it. */
async function stopWithExactlyTheNight(run: Background, dataDir: string, night: UniqueNightTopic, date: string): Promise<void> {
  run.child.kill('SIGTERM');
  const end = await run.exit;
  expect(end.code, end.output).toBe(0);
  expect(end.output).toContain(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);
  await expectExactlyTheNight(dataDir, night.topic, date, night.programid);
}

describe('archive ingest on a full disk (a real tmpfs)', () => {
  /** The simulated night on "uw", its topics deleted when the test ends. */
  async function simulatedNight(date: string, seed: number): Promise<UniqueNightTopic> {
    const night = uniqueNightTopic(date);
    deleteProgramTopicsAfterTest(uw, night.programid);
    await produceSimulatedNight({ alerts: ALERTS, seed, night: date, programid: night.programid, brokers: UW_BROKERS });
    return night;
  }

  it('pauses on ENOSPC without losing or skipping an alert, says so, and resumes by itself once space is freed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'zads-disk-full-'));
    mountTmpfsForTest(dataDir, 48);
    // 40 MiB of the 48 taken: about 8 MiB left for a ~30 MB night.
    const ballast = join(dataDir, 'ballast.bin');
    writeFileSync(ballast, Buffer.alloc(40 * MiB, 1));
    expect(freeBytes(dataDir)).toBeLessThan(9 * MiB);
    const night = await simulatedNight('20240107', 7);

    const metricsPort = await freePort();
    const run = backgroundZads(['archive', 'run', '--brokers', UW_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', `disk-full-${night.programid}`, '--no-schedule', '--metrics-port', String(metricsPort)]);

    await waitFor('the disk-full line', () => run.printed().includes('archive disk full'), WAIT);
    const line = run.printed().split('\n').find((l) => l.includes('archive disk full'))!;
    const msg = (JSON.parse(line) as { msg: string }).msg;
    expect(msg).toMatch(new RegExp(`^archive disk full at ${dataDir} \\((ENOSPC while writing ${dataDir}/segments/\\S+\\.seg|SQLITE_FULL while writing ${dataDir}/${CATALOGUE_FILE})\\): ingest paused, nothing lost; retrying every 1s`));
    // Said once, however many retries follow.
    await waitFor('the first retries', async () => Number(await metric(metricsPort, 'zads_archive_disk_full_retries_total')) >= 2, WAIT);
    expect(run.printed().split('archive disk full').length - 1).toBe(1);
    expect(await metric(metricsPort, 'zads_archive_disk_full')).toBe('1');
    // Paused, not gone: still running, the night only partly archived.
    expect(run.child.exitCode).toBeNull();
    const paused = archivedCount(dataDir, '20240107', night.programid);
    expect(paused).toBeLessThan(ALERTS);

    // The operator frees space.
    rmSync(ballast);
    await resumed(run, dataDir, '20240107', night.programid);
    expect(await metric(metricsPort, 'zads_archive_disk_full')).toBe('0');
    await stopWithExactlyTheNight(run, dataDir, night, '20240107');
  }, 180_000);

  it('pauses when the catalogue commit hits SQLITE_FULL after the segments were made durable, cuts them back, and resumes when the volume grows', async () => {
    // The data folder (catalogue, WAL) on a tiny file system; the segments on a roomy one: the segment
    // appends and their fdatasync succeed, the catalogue transaction that follows does not.
    const dataDir = mkdtempSync(join(tmpdir(), 'zads-sqlite-full-'));
    mountTmpfsForTest(dataDir, 8);
    await (await openArchive({ dataDir, writer: true })).close();
    const segments = join(dataDir, 'segments');
    mkdirSync(segments);
    mountTmpfsForTest(segments, 64);
    writeFileSync(join(dataDir, 'ballast.bin'), Buffer.alloc(freeBytes(dataDir) - 192 * 1024, 1));
    const night = await simulatedNight('20240108', 7);

    const run = backgroundZads(['archive', 'run', '--brokers', UW_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', `sqlite-full-${night.programid}`, '--no-schedule']);

    await waitFor('the disk-full line', () => run.printed().includes('archive disk full'), WAIT);
    expect(run.printed()).toContain(`archive disk full at ${dataDir} (SQLITE_FULL while writing ${join(dataDir, CATALOGUE_FILE)}): ingest paused, nothing lost`);
    expect(run.child.exitCode).toBeNull();
    expect(archivedCount(dataDir, '20240108', night.programid)).toBeLessThan(ALERTS);

    // The volume is grown in place.
    resizeTmpfs(dataDir, 64);
    await resumed(run, dataDir, '20240108', night.programid);
    await stopWithExactlyTheNight(run, dataDir, night, '20240108');
  }, 180_000);
});
