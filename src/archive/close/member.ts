import { memberTime } from '../../alert/index.ts';

/** The tarball member of an alert, as the UW archive names it: `<candid>.avro`. */
export function memberName(candid: bigint): string {
  return `${candid}.avro`;
}

/** The candid a member name stands for, or undefined when the name is not `<candid>.avro`. */
export function candidOfMember(name: string): bigint | undefined {
  const m = /^(?:\.\/)?(\d{1,20})\.avro$/.exec(name);
  return m ? BigInt(m[1]!) : undefined;
}

/** A member's modification time (src/alert/time.ts: Kafka's arrival time, else the jd). */
export const memberDate = memberTime;
