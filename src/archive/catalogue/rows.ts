import type { CatalogueAlert, DecodedAlert } from '../../alert/index.ts';
import type { AlertRow } from './types.ts';

export interface AlertLocation {
  night: string;
  programid: number;
  segment: string;
  byteOffset: number;
  byteLength: number;
  topic?: string | null;
  partition?: number | null;
  kafkaOffset?: bigint | null;
  kafkaTimestamp?: number | null;
}

function orNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The catalogue row of a decoded alert stored at a location. */
export function alertRow(decoded: DecodedAlert<CatalogueAlert>, at: AlertLocation): AlertRow {
  const { alert, schema } = decoded;
  const c = alert.candidate;
  return {
    candid: alert.candid,
    objectId: alert.objectId,
    night: at.night,
    programid: at.programid,
    jd: c.jd,
    ra: c.ra,
    dec: c.dec,
    fid: c.fid,
    magpsf: orNull(c.magpsf),
    sigmapsf: orNull(c.sigmapsf),
    rb: orNull(c.rb),
    drb: orNull(c.drb),
    schemaVersion: schema.version,
    topic: at.topic ?? null,
    partition: at.partition ?? null,
    kafkaOffset: at.kafkaOffset ?? null,
    kafkaTimestamp: at.kafkaTimestamp ?? null,
    segment: at.segment,
    byteOffset: at.byteOffset,
    byteLength: at.byteLength,
  };
}
