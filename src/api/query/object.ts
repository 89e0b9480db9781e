import type { AlertSummary, Catalogue, LocatedAlert } from '../../archive/index.ts';

/** Every alert of an object across all nights, in time order (jd, then candid): its light curve. */
export function objectRows(catalogue: Catalogue, objectId: string): AlertSummary[] {
  return catalogue.objectSummaries(objectId);
}

/** Where the bytes of each alert of an object are, in time order. */
export function objectLocations(catalogue: Catalogue, objectId: string): LocatedRow[] {
  return catalogue.objectLocations(objectId);
}

/** An alert's id, time and where its bytes are: what a subset archive needs of each member. */
export type LocatedRow = LocatedAlert;
