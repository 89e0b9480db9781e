import type { AlertFilter } from '../types.ts';
import { bright } from './bright.ts';
import { extragalactic } from './extragalactic.ts';
import { purity } from './purity.ts';
import { solarSystem } from './solar-system.ts';

/** The filters that ship with ZADS-TS, by name (what `--filter <name>` takes). */
export const PREDEFINED_FILTERS: Readonly<Record<string, AlertFilter>> = Object.freeze({
  [purity.name]: purity,
  [extragalactic.name]: extragalactic,
  [bright.name]: bright,
  [solarSystem.name]: solarSystem,
});

export { bright, extragalactic, purity, solarSystem };
