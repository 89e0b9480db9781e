import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archivedCount } from '../helpers/archive.ts';
import { CATALOGUE_FILE, openArchive } from '../../src/archive/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { exited, runZads, spawnZads } from '../helpers/cli.ts';
import { kafkaFor, readTopic, uniqueNightTopic } from '../helpers/kafka.ts';
import { freePort } from '../helpers/s3proxy.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { freeBytes, mountTmpfs, resizeTmpfs, unmountTmpfs } from '../helpers/tmpfs.ts';

/** Simulated alerts are ~75 KB each: 400 make a ~30 MB night, far more than the space left. */
const ALERTS = 400;
const MiB = 1024 * 1024;
const uw = kafkaFor(UW_BROKERS);


async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Everything a background process printed so far (exited() keeps its own copy for the end). */
function output(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

async function metric(port: number, name: string): Promise<string | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1];
}

async function produce(night: { programid: number }, date: string): Promise<void> {
  const p = await exited(spawnZads(['produce', '--simulate', String(ALERTS), '--seed', '7', '--night', date, '--program', String(night.programid), '--brokers', UW_BROKERS.join(','), '--json']));
  expect(p.code, p.output).toBe(0);
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

describe('archive ingest on a full disk (a real tmpfs)', () => {
  const mounts: string[] = [];
  const topics: string[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    for (const dir of mounts.reverse()) unmountTmpfs(dir);
    for (const dir of mounts) rmSync(dir, { recursive: true, force: true });
    await deleteTopics(uw, topics);
  });

  it('pauses on ENOSPC without losing or skipping an alert, says so, and resumes by itself once space is freed', async () => {
    const night = uniqueNightTopic('20240107');
    topics.push(night.topic);
    const dataDir = mkdtempSync(join(tmpdir(), 'zads-disk-full-'));
    mountTmpfs(dataDir, 48);
    mounts.push(dataDir);
    // 40 MiB of the 48 taken: about 8 MiB left for a ~30 MB night.
    const ballast = join(dataDir, 'ballast.bin');
    writeFileSync(ballast, Buffer.alloc(40 * MiB, 1));
    expect(freeBytes(dataDir)).toBeLessThan(9 * MiB);
    await produce(night, '20240107');

    const metricsPort = await freePort();
    const run = spawnZads(['archive', 'run', '--brokers', UW_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', `disk-full-${night.programid}`, '--no-schedule', '--metrics-port', String(metricsPort)]);
    children.push(run);
    const printed = output(run);
    const runExit = exited(run);

    await waitFor('the disk-full line', () => printed().includes('archive disk full'));
    const line = printed().split('\n').find((l) => l.includes('archive disk full'))!;
    const msg = (JSON.parse(line) as { msg: string }).msg;
    expect(msg).toMatch(new RegExp(`^archive disk full at ${dataDir} \\((ENOSPC while writing ${dataDir}/segments/\\S+\\.seg|SQLITE_FULL while writing ${dataDir}/${CATALOGUE_FILE})\\): ingest paused, nothing lost; retrying every 1s`));
    // Said once, however many retries follow.
    await waitFor('the first retries', async () => Number(await metric(metricsPort, 'zads_archive_disk_full_retries_total')) >= 2);
    expect(printed().split('archive disk full').length - 1).toBe(1);
    expect(await metric(metricsPort, 'zads_archive_disk_full')).toBe('1');
    // Paused, not gone: still running, the night only partly archived.
    expect(run.exitCode).toBeNull();
    const paused = archivedCount(dataDir, '20240107', night.programid);
    expect(paused).toBeLessThan(ALERTS);

    // The operator frees space.
    rmSync(ballast);
    await waitFor('every alert archived', () => archivedCount(dataDir, '20240107', night.programid) >= ALERTS);
    await waitFor('the resumed line', () => printed().includes('archive disk has space again'));
    expect(await metric(metricsPort, 'zads_archive_disk_full')).toBe('0');
    run.kill('SIGTERM');
    const end = await runExit;
    expect(end.code, end.output).toBe(0);
    expect(end.output).toContain(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);

    await expectExactlyTheNight(dataDir, night.topic, '20240107', night.programid);
  }, 180_000);

  it('pauses when the catalogue commit hits SQLITE_FULL after the segments were made durable, cuts them back, and resumes when the volume grows', async () => {
    const night = uniqueNightTopic('20240108');
    topics.push(night.topic);
    // The data folder (catalogue, WAL) on a tiny file system; the segments on a roomy one: the segment
    // appends and their fdatasync succeed, the catalogue transaction that follows does not.
    const dataDir = mkdtempSync(join(tmpdir(), 'zads-sqlite-full-'));
    mountTmpfs(dataDir, 8);
    mounts.push(dataDir);
    await (await openArchive({ dataDir, writer: true })).close();
    const segments = join(dataDir, 'segments');
    mkdirSync(segments);
    mountTmpfs(segments, 64);
    mounts.push(segments);
    writeFileSync(join(dataDir, 'ballast.bin'), Buffer.alloc(freeBytes(dataDir) - 192 * 1024, 1));
    await produce(night, '20240108');

    const run = spawnZads(['archive', 'run', '--brokers', UW_BROKERS.join(','), '--data', dataDir, '--topics', night.pattern.source, '--group', `sqlite-full-${night.programid}`, '--no-schedule']);
    children.push(run);
    const printed = output(run);
    const runExit = exited(run);

    await waitFor('the disk-full line', () => printed().includes('archive disk full'));
    expect(printed()).toContain(`archive disk full at ${dataDir} (SQLITE_FULL while writing ${join(dataDir, CATALOGUE_FILE)}): ingest paused, nothing lost`);
    expect(run.exitCode).toBeNull();
    expect(archivedCount(dataDir, '20240108', night.programid)).toBeLessThan(ALERTS);

    // The volume is grown in place.
    resizeTmpfs(dataDir, 64);
    await waitFor('every alert archived', () => archivedCount(dataDir, '20240108', night.programid) >= ALERTS);
    await waitFor('the resumed line', () => printed().includes('archive disk has space again'));
    run.kill('SIGTERM');
    const end = await runExit;
    expect(end.code, end.output).toBe(0);
    expect(end.output).toContain(`stopped; ${ALERTS} alerts archived, 0 duplicates, 0 quarantined`);

    await expectExactlyTheNight(dataDir, night.topic, '20240108', night.programid);
  }, 180_000);
});
