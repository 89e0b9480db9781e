import type { Archive } from '../../archive/index.ts';
import { ZadsError } from '../../errors.ts';
import type { BatchItem } from './batch.ts';

/**
 * The alerts of an archived night in candid order, each with the exact bytes the archive keeps, read
 * from the local segment files one at a time (memory stays flat whatever the night's size).
 */
export async function* archivedNight(archive: Archive, night: string, programid: number): AsyncGenerator<BatchItem> {
  const row = archive.catalogue.night(night, programid);
  if (!row) {
    throw new ZadsError('INPUT_NOT_FOUND', `night ${night} programid ${programid} is not in the archive at ${archive.dataDir}`, { context: { night, programid } });
  }
  if (row.stored === 's3') {
    throw new ZadsError('INPUT_UNSUPPORTED', `night ${night} programid ${programid} is kept on S3 only; filter the night's tarball instead (--from <tarball>)`, {
      context: { night, programid },
    });
  }
  for (const alert of archive.catalogue.alertsOfNight(night, programid)) {
    const bytes = await archive.segments.read(alert.segment, alert.byteOffset, alert.byteLength);
    const source = {
      file: alert.segment,
      ...(alert.topic !== null ? { topic: alert.topic } : {}),
      ...(alert.partition !== null ? { partition: alert.partition } : {}),
      ...(alert.kafkaOffset !== null ? { offset: alert.kafkaOffset.toString() } : {}),
    };
    yield { source, bytes, candid: alert.candid };
  }
}
