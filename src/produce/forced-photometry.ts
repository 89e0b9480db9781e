import type { Epoch } from './detection.ts';
import { NONE, f32, pidOf } from './detection.ts';
import { brightnessAt } from './population.ts';
import type { SimObject } from './population.ts';
import { STREAM, rngFor } from './rng.ts';

/**
 * Forced photometry (4.x `fp_hists`): the difference flux measured at an object's position in an
 * earlier epoch, whether or not it was detected there, with the calibration of that image.
 */
/** A forced-photometry measurement of object `o` in an epoch. */
export function forcedPhotometry(seed: number, o: SimObject, epoch: Epoch, programid: number): Record<string, unknown> {
  const rng = rngFor(seed, STREAM.alert, ...epoch.key, o.field.id, o.index, 1);
  const { diffMag, positive } = brightnessAt(o, epoch.jd, epoch.fid);
  const unc = 10 ** (0.4 * (epoch.magzpsci - epoch.diffmaglim)) / 5;
  const flux = (positive ? 1 : -1) * 10 ** (0.4 * (epoch.magzpsci - diffMag)) + rng.normal() * unc;
  const refMag = o.refMag === null ? null : o.refMag + (epoch.fid === 1 ? o.colorGR : 0);
  return {
    field: o.field.id,
    rcid: o.spot.rcid,
    fid: epoch.fid,
    pid: pidOf(epoch, o.spot.rcid),
    rfid: BigInt(o.field.id * 1e6 + 1e5 + epoch.fid * 1e4 + o.spot.rcid),
    sciinpseeing: f32(epoch.seeingPx * 1.01),
    scibckgnd: f32(rng.range(150, 400)),
    scisigpix: f32(rng.range(5, 25)),
    magzpsci: f32(epoch.magzpsci),
    magzpsciunc: f32(rng.range(4e-6, 1.2e-5)),
    magzpscirms: f32(rng.range(0.02, 0.05)),
    clrcoeff: f32(epoch.fid === 1 ? rng.range(-0.08, -0.02) : rng.range(0.07, 0.11)),
    clrcounc: f32(rng.range(8e-6, 2e-5)),
    exptime: 30,
    adpctdif1: f32(rng.range(0.05, 0.2)),
    adpctdif2: f32(rng.range(0.05, 0.2)),
    diffmaglim: f32(epoch.diffmaglim),
    programid,
    jd: epoch.jd,
    forcediffimflux: f32(flux),
    forcediffimfluxunc: f32(unc),
    procstatus: '0',
    distnr: refMag === null ? f32(NONE) : f32(o.refDistArcsec),
    ranr: o.raDeg,
    decnr: o.decDeg,
    magnr: refMag === null ? f32(NONE) : f32(refMag),
    sigmagnr: refMag === null ? f32(NONE) : f32(0.01 + 0.1 * 10 ** (0.4 * (refMag - 21))),
    chinr: refMag === null ? f32(NONE) : f32(o.refChi),
    sharpnr: refMag === null ? f32(NONE) : f32(o.refSharp),
  };
}
