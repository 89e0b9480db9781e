/** The Julian Date of the Unix epoch, 1970-01-01T00:00Z. ZTF's `jd` fields count days from noon, 4713 BC. */
export const JD_UNIX_EPOCH = 2440587.5;

const MS_PER_DAY = 86_400_000;

/** A Julian Date as epoch milliseconds (fractional). */
export function jdToMs(jd: number): number {
  return (jd - JD_UNIX_EPOCH) * MS_PER_DAY;
}

/** Epoch milliseconds as a Julian Date. */
export function msToJd(ms: number): number {
  return JD_UNIX_EPOCH + ms / MS_PER_DAY;
}

/**
 * A tarball member's modification time: when Kafka received the alert when that is known, else its exposure
 * time (jd), never before 1970. Both come from the catalogue or the alert itself, so a tarball built again
 * from the same alerts is the same, byte for byte.
 */
export function memberTime(alert: { kafkaTimestamp?: number | null; jd: number }): Date {
  if (alert.kafkaTimestamp !== undefined && alert.kafkaTimestamp !== null && Number.isFinite(alert.kafkaTimestamp)) return new Date(alert.kafkaTimestamp);
  const ms = Math.round(jdToMs(alert.jd));
  return new Date(Number.isFinite(ms) && ms > 0 ? ms : 0);
}
