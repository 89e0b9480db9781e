/**
 * Where things live in the data folder (and, with the same keys, in S3). The bulk files follow the UW
 * public archive's URL layout, so the API can serve the folder as it is.
 *
 *   catalogue.sqlite                                   the catalogue (WAL)
 *   segments/YYYYMMDD/programidN/<source>.seg          exact message bytes, appended
 *   alerts/public/ztf_public_YYYYMMDD.tar.gz           programid 1 nights
 *   alerts/partnership/ztf_partnership_YYYYMMDD.tar.gz programid 2 nights
 *   alerts/programidN/ztf_programidN_YYYYMMDD.tar.gz   any other programid
 *   alerts/<folder>/MD5SUMS                            one per folder
 *   quarantine/<topic>/<partition>/<offset>.bin        undecodable messages, byte for byte
 */
export const CATALOGUE_FILE = 'catalogue.sqlite';

export function programFolder(programid: number): { folder: string; prefix: string } {
  if (programid === 1) return { folder: 'alerts/public', prefix: 'ztf_public' };
  if (programid === 2) return { folder: 'alerts/partnership', prefix: 'ztf_partnership' };
  return { folder: `alerts/programid${programid}`, prefix: `ztf_programid${programid}` };
}

export function tarballName(night: string, programid: number): string {
  return `${programFolder(programid).prefix}_${night}.tar.gz`;
}

export function tarballKey(night: string, programid: number): string {
  return `${programFolder(programid).folder}/${tarballName(night, programid)}`;
}

export function md5sumsKey(programid: number): string {
  return `${programFolder(programid).folder}/MD5SUMS`;
}

/** Segments are named after what fills them: a Kafka topic-partition, or an imported file. */
export function segmentKey(night: string, programid: number, source: string): string {
  const safe = source.replace(/[^A-Za-z0-9._-]/g, '_');
  return `segments/${night}/programid${programid}/${safe}.seg`;
}

export function quarantineKey(topic: string, partition: number, offset: bigint | string): string {
  const safe = topic.replace(/[^A-Za-z0-9._-]/g, '_');
  return `quarantine/${safe}/${partition}/${offset}.bin`;
}

/** Parses `ztf_public_20180819.tar.gz` (and the partnership / programidN forms) into night and programid. */
export function parseTarballName(name: string): { night: string; programid: number } | undefined {
  const base = name.split('/').pop() ?? name;
  let m = /^ztf_public_(\d{8})\.tar\.gz$/.exec(base);
  if (m) return { night: m[1]!, programid: 1 };
  m = /^ztf_partnership_(\d{8})\.tar\.gz$/.exec(base);
  if (m) return { night: m[1]!, programid: 2 };
  m = /^ztf_programid(\d+)_(\d{8})\.tar\.gz$/.exec(base);
  if (m) return { night: m[2]!, programid: Number(m[1]) };
  // The shared sample is named ztf_public_20180819_mod1000.tar.gz: a subset of a public night.
  m = /^ztf_(public|partnership)_(\d{8})_[A-Za-z0-9]+\.tar\.gz$/.exec(base);
  if (m) return { night: m[2]!, programid: m[1] === 'public' ? 1 : 2 };
  return undefined;
}
