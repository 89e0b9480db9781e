import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { iterateContainer, iterateTarStream } from '../../alert/index.ts';
import type { DecodedAlert } from '../../alert/index.ts';
import { ZadsError, isZadsError, toZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { segmentKey, tarballName } from '../layout.ts';
import { installTarball } from './install-tarball.ts';
import type { FileReport } from './types.ts';
import { ImportWriter, safeName } from './writer.ts';

/** Read size of the tarball file: fewer, larger reads than the 64 KiB default feed gunzip faster. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface TarballTarget {
  night: string;
  programid: number;
}

export interface InputHooks {
  batchMembers: number;
  batchBytes: number;
  /** Called after each member with the compressed bytes read so far and the alerts found. */
  onMember: (readBytes: number, alerts: number) => void;
}

/** Decodes a whole member; damage anywhere in it is an error (its bytes go to the quarantine whole). */
export function decodeMember(bytes: Buffer, source: { file: string; member?: string }): DecodedAlert[] {
  const decoded: DecodedAlert[] = [];
  try {
    for (const d of iterateContainer(bytes, { source })) decoded.push(d);
  } catch (err) {
    const error = toZadsError(err, source);
    if (decoded.length > 0) {
      error.message = `${error.message} (after ${decoded.length} alert(s) that decoded: the member is kept whole in the quarantine)`;
    }
    throw error;
  }
  if (decoded.length === 0) {
    throw new ZadsError('ALERT_NOT_ZTF', 'container holds no alert record', { context: { ...source, bytePosition: bytes.length } });
  }
  return decoded;
}

export function emptyReport(file: string, kind: FileReport['kind']): FileReport {
  return {
    file,
    kind,
    night: null,
    programid: null,
    segment: null,
    alerts: 0,
    inserted: 0,
    duplicates: 0,
    quarantined: 0,
    multiAlertMembers: 0,
    bytes: 0,
    appendedBytes: 0,
    closed: false,
    notes: [],
    seconds: 0,
  };
}

/**
 * Imports one UW night tarball into `target`'s night: streams its members (one in memory at a time,
 * plus the open batch), appends the exact bytes of each new member to the segment
 * `import-<tarball name>`, and records a catalogue row per alert. Undecodable members go to the
 * quarantine. If the tarball is damaged part-way, the members before the damage are kept and the
 * report carries the error. When the file bears the night's canonical name, was read whole, and the
 * night holds exactly its alerts, it becomes the night's tarball and the night is closed.
 */
export async function importTarball(archive: Archive, file: string, target: TarballTarget, hooks: InputHooks): Promise<FileReport> {
  const report = emptyReport(file, 'tarball');
  const name = basename(file);
  const { night, programid } = target;
  const segment = segmentKey(night, programid, `import-${name}`);
  Object.assign(report, { night, programid, segment });
  const writer = new ImportWriter(archive, { night, programid, segment, quarantineFolder: safeName(name), ...hooks });

  // Size and modification time now, so installing the file as the night's tarball can tell it did not change.
  const before = await stat(file);
  let readBytes = 0;
  const raw = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  raw.on('data', (chunk) => {
    readBytes += chunk.length;
  });
  raw.pipe(gunzip);
  let complete = false;
  try {
    for await (const member of iterateTarStream(gunzip, file)) {
      const source = { file, member: member.name };
      let decoded: DecodedAlert[];
      try {
        decoded = decodeMember(member.bytes, source);
      } catch (err) {
        await writer.quarantine(member.bytes, member.name, `${name}:${member.name}`, toZadsError(err, source));
        decoded = [];
      }
      if (decoded.length > 0) writer.add(member.bytes, decoded);
      if (writer.full) await writer.flush();
      hooks.onMember(readBytes, writer.counts.alerts);
    }
    complete = true;
  } catch (err) {
    const error = toZadsError(err, { file });
    // Input damage ends this tarball, not the import; anything else (storage) is fatal.
    if (error.code !== 'ARCHIVE_CORRUPT' && error.code !== 'INPUT_NOT_FOUND') throw error;
    report.error = error;
  } finally {
    raw.destroy();
  }
  await writer.finish();
  Object.assign(report, writer.reportCounts());

  if (report.quarantined > 0) report.notes.push(`${report.quarantined} member(s) did not decode and are kept in the quarantine`);
  if (report.multiAlertMembers > 0) {
    report.notes.push(`${report.multiAlertMembers} member(s) hold more than one alert: each of their alerts points at the whole member`);
  }
  const canonical = tarballName(night, programid);
  if (name !== canonical) {
    report.notes.push(`${name} is not the night's canonical name ${canonical}: the night stays open, and "zads archive close" builds its tarball`);
  } else if (!complete) {
    report.notes.push('the tarball could not be read to its end: the night stays open');
  } else {
    const nightAlerts = archive.catalogue.countNight(night, programid).alerts;
    const inNight = writer.counts.inNight;
    if (nightAlerts !== inNight) {
      report.notes.push(
        `night ${night} programid ${programid} holds ${nightAlerts - inNight} alert(s) that are not in ${name}: the night stays open, and a close builds a tarball of all of them`,
      );
    } else {
      try {
        report.tarball = await installTarball(archive, file, target, { before, alerts: report.alerts });
        report.closed = true;
      } catch (err) {
        if (!isZadsError(err, 'INPUT_UNSUPPORTED')) throw err;
        report.error = err;
      }
    }
  }
  return report;
}
