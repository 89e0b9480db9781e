export { Catalogue } from './catalogue.ts';
export { SCHEMA_VERSION } from './schema.ts';
export type { AlertRow, BatchResult, CatalogueBatch, NightRow, NightState, PositionRow, QuarantineRow, SegmentRow } from './types.ts';
