/**
 * Upstream topic names: `ztf_YYYYMMDD_programidN`, the UTC date of the night. A night's identity is the
 * topic's date, never a date computed from jd.
 */
export const NIGHT_TOPIC_PATTERN = /^ztf_(\d{8})_programid(\d+)$/;

/** Default partition count of a nightly topic, as at ZTF. */
export const DEFAULT_NIGHT_PARTITIONS = 16;

export interface NightTopic {
  /** YYYYMMDD (UTC). */
  night: string;
  programid: number;
}

function isCalendarDate(night: string): boolean {
  if (!/^\d{8}$/.test(night)) return false;
  const y = Number(night.slice(0, 4));
  const m = Number(night.slice(4, 6));
  const d = Number(night.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function nightTopicName(night: string, programid: number): string {
  if (!isCalendarDate(night)) throw new RangeError(`night must be a UTC date YYYYMMDD, not ${JSON.stringify(night)}`);
  if (!Number.isInteger(programid) || programid < 0) throw new RangeError(`programid must be a whole number ≥ 0, not ${programid}`);
  return `ztf_${night}_programid${programid}`;
}

/** The night and programid of a nightly topic name, or undefined for any other topic. */
export function parseNightTopic(topic: string): NightTopic | undefined {
  const m = NIGHT_TOPIC_PATTERN.exec(topic);
  if (!m || !isCalendarDate(m[1]!)) return undefined;
  return { night: m[1]!, programid: Number(m[2]) };
}
