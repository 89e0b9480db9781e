/** Julian date of the Unix epoch (1970-01-01T00:00:00Z). */
const JD_UNIX_EPOCH = 2440587.5;
const MS_PER_DAY = 86_400_000;

/** The tarball member of an alert, as the UW archive names it: `<candid>.avro`. */
export function memberName(candid: bigint): string {
  return `${candid}.avro`;
}

/** The candid a member name stands for, or undefined when the name is not `<candid>.avro`. */
export function candidOfMember(name: string): bigint | undefined {
  const m = /^(?:\.\/)?(\d{1,20})\.avro$/.exec(name);
  return m ? BigInt(m[1]!) : undefined;
}

/**
 * A member's modification time: when Kafka received the alert, else the exposure time (its jd). Both come
 * from the catalogue, so rebuilding a night gives the same tarball, byte for byte.
 */
export function memberDate(row: { kafkaTimestamp: number | null; jd: number }): Date {
  if (row.kafkaTimestamp !== null && Number.isFinite(row.kafkaTimestamp)) return new Date(row.kafkaTimestamp);
  const ms = Math.round((row.jd - JD_UNIX_EPOCH) * MS_PER_DAY);
  return new Date(Number.isFinite(ms) && ms > 0 ? ms : 0);
}
