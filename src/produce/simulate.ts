import { DEFAULT_WRITE_VERSION, shippedSchema } from '../alert/index.ts';
import type { ShippedVersion, WriterSchema, ZtfAlert } from '../alert/index.ts';
import { ZadsError } from '../errors.ts';
import { nightTopicName } from '../kafka/index.ts';
import { detect, upperLimit } from './detection.ts';
import { forcedPhotometry } from './forced-photometry.ts';
import { HISTORY_DAYS, pastEpochs } from './history.ts';
import { isMember, memberAt, planNight } from './plan.ts';
import type { Exposure, NightPlan } from './plan.ts';
import { simObject } from './population.ts';
import type { SimObject } from './population.ts';
import { alertShapes, fillRecord } from './records.ts';
import type { AlertShapes } from './records.ts';
import { seedFrom } from './rng.ts';
import { jdOfNight } from './sky.ts';
import { StampFactory } from './stamps.ts';

export interface SimulateOptions {
  /** UTC date of the night, YYYYMMDD; every alert's jd falls between 03:00 and 13:00 UTC of it. */
  night: string;
  /** ZTF program id of the alerts. Default 1 (public). */
  programid?: number;
  /** Number of alerts. */
  count: number;
  /** The seed: the same seed, night, programid and count give the same alerts, byte for byte. */
  seed: number | string;
  /** Schema version the alerts are shaped for. Default {@link DEFAULT_WRITE_VERSION}. */
  schemaVersion?: ShippedVersion;
}

/** Largest simulated night: eight ZTF nights' worth (object numbering allows a few times more). */
export const MAX_SIMULATED_ALERTS = 10_000_000;
/** Most fp_hists entries per alert: keeps messages near ZTF's typical size. */
const MAX_FP_HISTS = 5;
const PUBLISHER = 'ZTF (www.ztf.caltech.edu)';

/** Checked, defaulted simulation options. */
export interface ResolvedSimulation {
  night: string;
  programid: number;
  count: number;
  seed: number;
  schema: WriterSchema;
  schemaVersion: ShippedVersion;
}

/** ZTF's night id counts days from 2017-01-01 (jd 2457754.5): the first night a candid can name. */
const FIRST_NIGHT = '20170101';
/**
 * The last night whose candids fit in a signed 64-bit long: pid = nid·10^9 + dayCode·10^4 + rcid·100 + 15 and
 * candid = pid·10^6 + programid·10^5 + index, so nid·10^15 + 10^15 must stay below 2^63 (nid ≤ 9,222).
 */
const LAST_NIGHT = (() => {
  const maxNid = Number((2n ** 63n - 1n) / 10n ** 15n) - 1;
  return new Date(Date.UTC(2017, 0, 1) + maxNid * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
})();

export function resolveSimulation(options: SimulateOptions): ResolvedSimulation {
  const programid = options.programid ?? 1;
  try {
    nightTopicName(options.night, programid);
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', (cause as Error).message, { cause, context: { night: options.night } });
  }
  if (options.night < FIRST_NIGHT || options.night > LAST_NIGHT) {
    throw new ZadsError(
      'CONFIG_INVALID',
      `night ${options.night} is outside what ZTF's candid layout can hold: simulated nights run from ${FIRST_NIGHT} to ${LAST_NIGHT} ` +
        `(candid = pid·10^6 + …, pid = days since 2017-01-01·10^9 + …, and a candid must fit in a signed 64-bit long)`,
      { context: { key: 'night', night: options.night } },
    );
  }
  if (!Number.isInteger(options.count) || options.count < 0 || options.count > MAX_SIMULATED_ALERTS) {
    throw new ZadsError('CONFIG_INVALID', `count must be a whole number from 0 to ${MAX_SIMULATED_ALERTS}, not ${options.count}`, {
      context: { key: 'count' },
    });
  }
  const schemaVersion = options.schemaVersion ?? DEFAULT_WRITE_VERSION;
  return { night: options.night, programid, count: options.count, seed: seedFrom(options.seed), schema: shippedSchema(schemaVersion), schemaVersion };
}

/**
 * Builds one alert: the detection, its history (earlier days and earlier exposures tonight), forced
 * photometry and cutouts.
 */
class AlertBuilder {
  readonly #sim: ResolvedSimulation;
  readonly #plan: NightPlan;
  readonly #shapes: AlertShapes;
  readonly #stamps: StampFactory;
  readonly #nightJd: number;

  constructor(sim: ResolvedSimulation, plan: NightPlan) {
    this.#sim = sim;
    this.#plan = plan;
    this.#shapes = alertShapes(sim.schema);
    this.#stamps = new StampFactory(sim.seed);
    this.#nightJd = jdOfNight(sim.night);
  }

  build(exposure: Exposure, o: SimObject): ZtfAlert {
    const { seed, programid } = this.#sim;
    const shapes = this.#shapes;
    const det = detect(seed, o, exposure, programid);
    const prv: Record<string, unknown>[] = [];
    const fp: Record<string, unknown>[] = [];
    let detections = 0;
    let limits = 0;
    let earliest = exposure.jd;
    for (const past of pastEpochs(seed, o, this.#nightJd, exposure.jd)) {
      if (past.detected) {
        prv.push(fillRecord(shapes.prvCandidate, detect(seed, o, past.epoch, programid, true).values));
        detections++;
        earliest = Math.min(earliest, past.epoch.jd);
      } else {
        prv.push(fillRecord(shapes.prvCandidate, upperLimit(seed, o, past.epoch, programid)));
        limits++;
      }
      if (shapes.fpHist) fp.push(fillRecord(shapes.fpHist, forcedPhotometry(seed, o, past.epoch, programid)));
    }
    for (const j of exposure.earlierVisits) {
      const earlier = this.#plan.exposures[j]!;
      if (isMember(this.#plan, earlier, o.index)) {
        prv.push(fillRecord(shapes.prvCandidate, detect(seed, o, earlier, programid, true).values));
        detections++;
        earliest = Math.min(earliest, earlier.jd);
      } else {
        prv.push(fillRecord(shapes.prvCandidate, upperLimit(seed, o, earlier, programid)));
        limits++;
      }
    }
    // Detections before the 30-day window, counted but not listed (as ZTF's ndethist does).
    const olderDays = Math.max(0, exposure.jd - HISTORY_DAYS - o.firstJd);
    const older = Math.floor(olderDays * o.historyRatePerDay * 0.6);
    const values = det.values;
    values.ndethist = detections + older + 1;
    values.ncovhist = detections + limits + older + Math.floor(olderDays * o.historyRatePerDay * 0.4) + 1;
    values.jdstarthist = older > 0 ? o.firstJd : earliest;
    values.jdendhist = exposure.jd;
    const cut = this.#stamps.cutouts(det.stamp, det.candid, det.pid);
    return fillRecord(shapes.alert, {
      schemavsn: this.#sim.schemaVersion,
      publisher: PUBLISHER,
      objectId: o.objectId,
      candid: det.candid,
      candidate: fillRecord(shapes.candidate, values),
      prv_candidates: prv.length > 0 ? prv : null,
      fp_hists: fp.length > 0 ? fp.slice(-MAX_FP_HISTS) : null,
      cutoutScience: fillRecord(shapes.cutout, cut.science),
      cutoutTemplate: fillRecord(shapes.cutout, cut.template),
      cutoutDifference: fillRecord(shapes.cutout, cut.difference),
    }) as unknown as ZtfAlert;
  }
}

/**
 * A simulated night of ZTF alerts, in time order, one exposure burst after another (within a burst,
 * by readout channel). Options are checked at once; alerts are built as they are taken, so memory
 * stays bounded by one exposure.
 */
export function simulateNight(options: SimulateOptions): Generator<ZtfAlert, void, undefined> {
  return generate(resolveSimulation(options));
}

function* generate(sim: ResolvedSimulation): Generator<ZtfAlert, void, undefined> {
  if (sim.count === 0) return;
  const plan = planNight(sim);
  const builder = new AlertBuilder(sim, plan);
  for (const exposure of plan.exposures) {
    const members: SimObject[] = [];
    for (let t = 0; t < exposure.size; t++) members.push(simObject(sim.seed, exposure.field, memberAt(plan, exposure, t)));
    // Stable sort: by readout channel, then selection order.
    members.sort((a, b) => a.spot.rcid - b.spot.rcid);
    for (const o of members) yield builder.build(exposure, o);
  }
}
