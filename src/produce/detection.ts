import { brightnessAt } from './population.ts';
import type { SimObject } from './population.ts';
import type { Rng } from './rng.ts';
import { STREAM, rngFor } from './rng.ts';
import { jdToMs } from '../alert/index.ts';

/**
 * One detection (or upper limit) of a simulated object: the candidate values ZTF's pipeline would
 * report, keyed by the schema's field names. A detection is a pure function of (seed, epoch, object),
 * so the same detection quoted later in prv_candidates carries exactly the values it was sent with.
 */

/** When and how a position was observed: an exposure of tonight's plan or an earlier one. */
export interface Epoch {
  jd: number;
  fid: 1 | 2 | 3;
  nid: number;
  /** Five digits of the fraction of the UTC day: pid digits 5–9. */
  dayCode: number;
  diffmaglim: number;
  seeingPx: number;
  magzpsci: number;
  noiseProfile: number;
  /** Integers naming this epoch's random stream (with the seed and the object). */
  key: readonly number[];
}

/** What the cutouts of a detection need to show. */
export interface StampModel {
  /** Flux of the point source in the difference image (DN; negative when isdiffpos is "f"). */
  diffFluxDn: number;
  /** Flux of the source in the reference image at the same spot (DN; 0 if none). */
  refFluxDn: number;
  fwhmPx: number;
  refFwhmPx: number;
  /** Sub-pixel offset of the source from the stamp centre, in pixels. */
  dxPx: number;
  dyPx: number;
  noiseProfile: number;
}

export interface Detection {
  candid: bigint;
  pid: bigint;
  /** Candidate values by field name (alert candidate and prv_candidate share names). */
  values: Record<string, unknown>;
  stamp: StampModel;
}

const FILTER_CODES = ['', 'zg', 'zr', 'zi'] as const;
const PROGRAM_PIS: Record<number, string> = { 0: 'Kulkarni', 1: 'Kulkarni', 2: 'Prince', 3: 'Caltech' };
/** ZTF's "no match" value. */
export const NONE = -999;
export const f32 = Math.fround;

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** YYYYMMDD + six digits of the day fraction, as in ZTF file names. */
function fileStamp(jd: number): { date: string; frac: string } {
  const ms = jdToMs(jd);
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  const frac = String(Math.floor((((jd + 0.5) % 1) + 1) % 1 * 1e6)).padStart(6, '0');
  return { date, frac };
}

/** The difference-image file name; prv_candidates give the archive path of the compressed file. */
export function diffImageName(jd: number, fieldId: number, fid: number, ccd: number, quadrant: number, asArchivePath: boolean): string {
  const { date, frac } = fileStamp(jd);
  const name = `ztf_${date}${frac}_${String(fieldId).padStart(6, '0')}_${FILTER_CODES[fid]}_c${String(ccd).padStart(2, '0')}_o_q${quadrant}_scimrefdiffimg.fits`;
  return asArchivePath ? `/ztf/archive/sci/${date.slice(0, 4)}/${date.slice(4, 8)}/${frac}/${name}.fz` : name;
}

export function pidOf(epoch: Epoch, rcid: number): bigint {
  return BigInt(epoch.nid * 1e9 + epoch.dayCode * 1e4 + rcid * 100 + 15);
}

/** candid = pid · 10^6 + programid digit · 10^5 + object index: unique per object per exposure. */
export function candidOf(pid: bigint, programid: number, index: number): bigint {
  return pid * 1_000_000n + BigInt((programid % 10) * 100_000 + index);
}

function psf(o: SimObject, k: number): { sg: number; sr: number; si: number; sz: number; score: number; dist: number } {
  const n = o.ps1[k]!;
  return { sg: f32(n.gMag), sr: f32(n.rMag), si: f32(n.iMag), sz: f32(n.zMag), score: f32(n.sgscore), dist: f32(n.distArcsec) };
}

/** Values shared by detections and upper limits of one epoch at one object's spot. */
function epochValues(o: SimObject, epoch: Epoch, programid: number, rng: Rng, archivePath: boolean) {
  const { rcid, ccd, quadrant } = o.spot;
  return {
    jd: epoch.jd,
    fid: epoch.fid,
    pid: pidOf(epoch, rcid),
    diffmaglim: f32(epoch.diffmaglim + rng.range(-0.1, 0.1)),
    pdiffimfilename: diffImageName(epoch.jd, o.field.id, epoch.fid, ccd, quadrant, archivePath),
    programpi: PROGRAM_PIS[programid] ?? 'TBD',
    programid,
    nid: epoch.nid,
    rcid,
    field: o.field.id,
    magzpsci: f32(epoch.magzpsci + rng.range(-0.02, 0.02)),
    magzpsciunc: f32(rng.range(4e-6, 1.2e-5)),
    magzpscirms: f32(rng.range(0.02, 0.05)),
    clrcoeff: f32(epoch.fid === 1 ? rng.range(-0.08, -0.02) : rng.range(0.07, 0.11)),
    clrcounc: f32(rng.range(8e-6, 2e-5)),
    rbversion: 't17_f5_c3',
  };
}

/** An upper limit: the position was observed but nothing was detected (candid and magpsf null). */
export function upperLimit(seed: number, o: SimObject, epoch: Epoch, programid: number): Record<string, unknown> {
  const rng = rngFor(seed, STREAM.alert, ...epoch.key, o.field.id, o.index);
  return { ...epochValues(o, epoch, programid, rng, true), candid: null, isdiffpos: null, magpsf: null, sigmapsf: null };
}

/**
 * A detection of object `o` in an epoch. `archivePath` gives pdiffimfilename as the archive path
 * (how prv_candidates quote it); the live candidate has the bare file name.
 */
export function detect(seed: number, o: SimObject, epoch: Epoch, programid: number, archivePath = false): Detection {
  const rng = rngFor(seed, STREAM.alert, ...epoch.key, o.field.id, o.index);
  const base = epochValues(o, epoch, programid, rng, archivePath);
  const { diffMag, positive } = brightnessAt(o, epoch.jd, epoch.fid);
  const limit = base.diffmaglim;
  const magpsf = clamp(diffMag + rng.normal() * 0.03, 13, Math.min(21.5, limit - 0.05));
  const sigmapsf = clamp(0.01 + 0.3 * 10 ** (0.4 * (magpsf - limit)) + rng.range(0, 0.01), 0.01, 0.3);
  const fwhm = clamp(epoch.seeingPx + rng.normal() * 0.15, 1.5, 5);
  const elong = clamp(1 + Math.abs(rng.normal()) * 0.08, 1, 1.5);
  const aimage = (fwhm / 2.3548) * rng.range(1, 1.15);
  const magdiff = rng.normal() * 0.04;
  const magap = magpsf + magdiff;
  const bogus = o.kind === 'bogus';
  const rb = clamp(o.realness + rng.normal() * 0.06, 0, 1);
  const drb = bogus ? rng.range(0, 0.3) : clamp(1 - (1 - rb) ** 2 * rng.range(0.5, 1.5), 0, 1);
  const ss = rng.chance(0.02);
  const refMag = o.refMag === null ? null : o.refMag + (epoch.fid === 1 ? o.colorGR : 0);
  const ra = o.raDeg + (rng.normal() * 0.08) / 3600 / Math.max(0.02, Math.cos((o.decDeg * Math.PI) / 180));
  const dec = o.decDeg + (rng.normal() * 0.08) / 3600;
  const p1 = psf(o, 0);
  const p2 = psf(o, 1);
  const p3 = psf(o, 2);
  const dsnrms = rng.range(5, 40);
  const ssnrms = rng.range(10, 90);
  const pid = base.pid;
  const candid = candidOf(pid, programid, o.index);
  // Listed field by field: a spread into a literal this large makes V8 build a slow dictionary object.
  const values: Record<string, unknown> = {
    jd: base.jd,
    fid: base.fid,
    pid: base.pid,
    diffmaglim: base.diffmaglim,
    pdiffimfilename: base.pdiffimfilename,
    programpi: base.programpi,
    programid: base.programid,
    nid: base.nid,
    rcid: base.rcid,
    field: base.field,
    magzpsci: base.magzpsci,
    magzpsciunc: base.magzpsciunc,
    magzpscirms: base.magzpscirms,
    clrcoeff: base.clrcoeff,
    clrcounc: base.clrcounc,
    rbversion: base.rbversion,
    candid,
    isdiffpos: positive ? 't' : 'f',
    tblid: BigInt(o.index),
    xpos: f32(o.spot.xposPx + rng.normal() * 0.3),
    ypos: f32(o.spot.yposPx + rng.normal() * 0.3),
    ra,
    dec,
    magpsf: f32(magpsf),
    sigmapsf: f32(sigmapsf),
    chipsf: f32(rng.range(0.5, 8)),
    magap: f32(magap),
    sigmagap: f32(sigmapsf * rng.range(0.9, 1.2)),
    distnr: refMag === null ? f32(NONE) : f32(o.refDistArcsec + rng.normal() * 0.05),
    magnr: refMag === null ? f32(NONE) : f32(refMag),
    sigmagnr: refMag === null ? f32(NONE) : f32(0.01 + 0.1 * 10 ** (0.4 * (refMag - 21))),
    chinr: refMag === null ? f32(NONE) : f32(o.refChi),
    sharpnr: refMag === null ? f32(NONE) : f32(o.refSharp),
    sky: f32(rng.normal() * 0.3),
    magdiff: f32(magdiff),
    fwhm: f32(fwhm),
    classtar: f32(o.classtar),
    mindtoedge: f32(o.spot.mindtoedgePx),
    magfromlim: f32(limit - magap),
    seeratio: f32(rng.chance(0.6) ? 2 : rng.range(0.6, 1.6)),
    aimage: f32(aimage),
    bimage: f32(aimage / elong),
    aimagerat: f32(aimage / fwhm),
    bimagerat: f32(aimage / elong / fwhm),
    elong: f32(elong),
    nneg: rng.int(bogus ? 20 : 8),
    nbad: rng.chance(bogus ? 0.5 : 0.06) ? 1 + rng.int(3) : 0,
    rb: f32(rb),
    ssdistnr: ss ? f32(rng.range(0.3, 25)) : f32(NONE),
    ssmagnr: ss ? f32(rng.range(16, 21)) : f32(NONE),
    ssnamenr: ss ? String(1000 + rng.int(600_000)) : 'null',
    sumrat: f32(rng.range(0.85, 1)),
    magapbig: f32(magap + rng.normal() * 0.02),
    sigmagapbig: f32(sigmapsf * rng.range(1, 1.3)),
    ranr: o.raDeg,
    decnr: o.decDeg,
    sgmag1: p1.sg,
    srmag1: p1.sr,
    simag1: p1.si,
    szmag1: p1.sz,
    sgscore1: p1.score,
    distpsnr1: p1.dist,
    scorr: 1.0857 / sigmapsf + rng.range(-1, 1),
    tooflag: 0,
    objectidps1: o.ps1[0]!.objid,
    objectidps2: o.ps1[1]!.objid,
    sgmag2: p2.sg,
    srmag2: p2.sr,
    simag2: p2.si,
    szmag2: p2.sz,
    sgscore2: p2.score,
    distpsnr2: p2.dist,
    objectidps3: o.ps1[2]!.objid,
    sgmag3: p3.sg,
    srmag3: p3.sr,
    simag3: p3.si,
    szmag3: p3.sz,
    sgscore3: p3.score,
    distpsnr3: p3.dist,
    nmtchps: 3 + rng.int(15),
    rfid: BigInt(o.field.id * 1e6 + 1e5 + epoch.fid * 1e4 + o.spot.rcid),
    jdstartref: o.jdstartref,
    jdendref: o.jdendref,
    nframesref: o.nframesref,
    dsnrms: f32(dsnrms),
    ssnrms: f32(ssnrms),
    dsdiff: f32(dsnrms - ssnrms),
    nmatches: 500 + rng.int(2500),
    zpclrcov: f32(-rng.range(5e-6, 2e-5)),
    zpmed: f32(epoch.magzpsci + rng.range(0, 0.1)),
    clrmed: f32(rng.range(0.4, 0.8)),
    clrrms: f32(rng.range(0.15, 0.3)),
    neargaia: o.gaiaDistArcsec === null ? f32(NONE) : f32(o.gaiaDistArcsec),
    neargaiabright: f32(NONE),
    maggaia: o.gaiaMag === null ? f32(NONE) : f32(o.gaiaMag),
    maggaiabright: f32(NONE),
    exptime: 30,
    drb: f32(drb),
    drbversion: 'd6_m7',
  };
  if (archivePath) {
    // ZTF leaves solar-system matches empty in prv_candidates.
    values.ssdistnr = null;
    values.ssmagnr = null;
    values.ssnamenr = null;
  }
  const zp = base.magzpsci;
  const diffFlux = 10 ** (0.4 * (zp - magpsf));
  return {
    candid,
    pid,
    values,
    stamp: {
      diffFluxDn: positive ? diffFlux : -diffFlux,
      refFluxDn: refMag === null ? 0 : 10 ** (0.4 * (zp - refMag)),
      fwhmPx: fwhm,
      refFwhmPx: o.refFwhmPx,
      dxPx: rng.range(-0.5, 0.5),
      dyPx: rng.range(-0.5, 0.5),
      noiseProfile: epoch.noiseProfile,
    },
  };
}

