export { Catalogue } from './catalogue.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { ALERT_SUMMARY_FIELDS } from './types.ts';
export type { AlertRow, AlertSummary, ArrivalRow, ArrivalSelection, BatchResult, CatalogueBatch, JdCandid, LocatedAlert, NightRow, NightState, NightWindow } from './types.ts';
export type { PositionRow, QuarantineRow, SegmentRow, SegmentUse, SkyBox } from './types.ts';
export type { CandidSet } from './verify-queries.ts';
