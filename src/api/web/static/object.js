/* global uPlot */
import { BANDS, api, el, fixed, jdToIso, jdToUnix, showError } from './common.js';

const objectId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
const wantedCandid = new URLSearchParams(location.search).get('candid');
const $ = (id) => document.getElementById(id);

document.title = `${objectId} · ZADS-TS`;
$('title').textContent = objectId;
$('download').href = `/v1/objects/${encodeURIComponent(objectId)}/alerts.tar.gz`;

/**
 * The points of the light curve: the archived alerts themselves, the earlier detections their newest
 * alert carries in prv_candidates (ZTF sends 30 days of history), and that history's upper limits
 * (entries without magpsf, at diffmaglim). A detection is counted once even when both say it.
 */
function lightCurvePoints(rows, history) {
  const detections = rows.map((r) => ({ candid: r.candid, jd: r.jd, fid: r.fid, mag: r.magpsf, sigma: r.sigmapsf, source: 'alert' }));
  const seen = new Set(detections.map((d) => d.candid));
  const seenAt = new Set(detections.map((d) => `${d.jd}/${d.fid}`));
  const limits = [];
  for (const p of history) {
    if (p.magpsf !== null && p.magpsf !== undefined) {
      const key = `${p.jd}/${p.fid}`;
      if ((p.candid !== null && seen.has(p.candid)) || seenAt.has(key)) continue;
      seenAt.add(key);
      if (p.candid !== null) seen.add(p.candid);
      detections.push({ candid: p.candid, jd: p.jd, fid: p.fid, mag: p.magpsf, sigma: p.sigmapsf, source: 'history' });
    } else if (p.diffmaglim !== null && p.diffmaglim !== undefined) {
      const key = `limit ${p.jd}/${p.fid}`;
      if (seenAt.has(key)) continue;
      seenAt.add(key);
      limits.push({ jd: p.jd, fid: p.fid, mag: p.diffmaglim });
    }
  }
  return { detections, limits };
}

/** uPlot in aligned mode: one x array (Unix seconds), one y array per series with null where it has no point. */
function drawLightCurve(target, { detections, limits }) {
  const xs = [...new Set([...detections, ...limits].map((p) => jdToUnix(p.jd)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const bands = [...new Set([...detections, ...limits].map((p) => p.fid))].sort();
  const series = [{ label: 'time (UTC)' }];
  const data = [xs];
  const sigmas = [null];
  const kinds = [null];
  for (const fid of bands) {
    const band = BANDS[fid] ?? { name: `fid ${fid}`, color: '#555' };
    const ys = new Array(xs.length).fill(null);
    const es = new Array(xs.length).fill(null);
    for (const d of detections.filter((p) => p.fid === fid)) {
      const i = at.get(jdToUnix(d.jd));
      ys[i] = d.mag;
      es[i] = d.sigma;
    }
    series.push({ label: `${band.name} detections`, stroke: band.color, fill: band.color, width: 0, paths: () => null, points: { show: true, size: 7, fill: band.color, stroke: band.color }, value: (_u, v) => fixed(v, 3) });
    data.push(ys);
    sigmas.push(es);
    kinds.push('detection');
    const ls = new Array(xs.length).fill(null);
    for (const l of limits.filter((p) => p.fid === fid)) ls[at.get(jdToUnix(l.jd))] = l.mag;
    if (ls.some((v) => v !== null)) {
      series.push({ label: `${band.name} upper limits`, stroke: band.color, width: 0, paths: () => null, points: { show: false }, value: (_u, v) => fixed(v, 2) });
      data.push(ls);
      sigmas.push(null);
      kinds.push('limit');
    }
  }
  // Error bars and limit triangles are drawn over uPlot's canvas, in its own coordinates.
  const overlay = (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    for (let s = 1; s < u.series.length; s++) {
      if (!u.series[s].show) continue;
      ctx.strokeStyle = u.series[s].stroke();
      for (let i = 0; i < xs.length; i++) {
        const y = u.data[s][i];
        if (y === null || y === undefined) continue;
        const cx = u.valToPos(xs[i], 'x', true);
        if (kinds[s] === 'detection' && sigmas[s][i]) {
          ctx.beginPath();
          ctx.moveTo(cx, u.valToPos(y - sigmas[s][i], 'y', true));
          ctx.lineTo(cx, u.valToPos(y + sigmas[s][i], 'y', true));
          ctx.stroke();
        } else if (kinds[s] === 'limit') {
          const cy = u.valToPos(y, 'y', true);
          const r = 5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(cx - r, cy - r * 0.6);
          ctx.lineTo(cx + r, cy - r * 0.6);
          ctx.lineTo(cx, cy + r);
          ctx.closePath();
          ctx.stroke();
        }
      }
    }
    ctx.restore();
  };
  const width = Math.max(320, target.clientWidth - 16);
  const chart = new uPlot(
    {
      width,
      height: 340,
      series,
      scales: { x: { time: true }, y: { dir: -1 } },
      axes: [{}, { label: 'magnitude (PSF, difference image)', labelSize: 30 }],
      legend: { live: true },
      hooks: { draw: [overlay] },
    },
    data,
    target,
  );
  target.dataset.detections = String(detections.length);
  target.dataset.limits = String(limits.length);
  target.dataset.plottedPoints = String(chart.data.slice(1).reduce((n, ys, k) => n + (kinds[k + 1] === 'detection' ? ys.filter((v) => v !== null).length : 0), 0));
  return chart;
}

function showCutouts(candid) {
  $('cutout-candid').textContent = `of alert ${candid}`;
  $('cutouts').replaceChildren(
    ...['science', 'template', 'difference'].map((kind) => {
      const base = `/v1/alerts/${candid}/cutouts/${kind}`;
      return el(
        'figure',
        {},
        el('img', { src: `${base}.png`, alt: `${kind} cutout of alert ${candid}`, 'data-kind': kind, width: 189, height: 189 }),
        el('figcaption', {}, kind, ' · ', el('a', { href: `${base}.fits` }, 'FITS')),
      );
    }),
  );
  for (const tr of document.querySelectorAll('#alerts tbody tr')) tr.classList.toggle('selected', tr.dataset.candid === candid);
}

function alertTable(rows) {
  const head = ['candid', 'time (UTC)', 'night', 'band', 'magpsf', 'σ', 'rb', 'drb', 'ra', 'dec', ''];
  const body = rows.map((r) =>
    el(
      'tr',
      { dataset: { candid: r.candid }, onclick: () => showCutouts(r.candid), style: 'cursor: pointer' },
      el('td', { class: 'mono' }, r.candid),
      el('td', {}, jdToIso(r.jd)),
      el('td', {}, el('a', { href: `/#night-${r.night}-${r.programid}` }, r.night)),
      el('td', {}, BANDS[r.fid]?.name ?? r.fid),
      el('td', { class: 'num' }, fixed(r.magpsf, 3)),
      el('td', { class: 'num' }, fixed(r.sigmapsf, 3)),
      el('td', { class: 'num' }, fixed(r.rb, 3)),
      el('td', { class: 'num' }, fixed(r.drb, 3)),
      el('td', { class: 'num' }, fixed(r.ra, 6)),
      el('td', { class: 'num' }, fixed(r.dec, 6)),
      el('td', {}, el('a', { href: `/v1/alerts/${r.candid}` }, 'JSON'), ' ', el('a', { href: `/v1/alerts/${r.candid}?format=avro` }, 'Avro')),
    ),
  );
  return el('table', { id: 'alerts-table' }, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, body));
}

try {
  const lc = await api(`/v1/objects/${encodeURIComponent(objectId)}`);
  const rows = lc.alerts;
  const newest = rows[rows.length - 1];
  const doc = await api(`/v1/alerts/${newest.candid}`);
  const history = doc.alert.prv_candidates ?? [];
  const points = lightCurvePoints(rows, history);
  const nights = new Set(rows.map((r) => r.night));
  $('summary').replaceChildren(
    el('div', { class: 'card' }, 'alerts ', el('b', { id: 'alert-count' }, rows.length)),
    el('div', { class: 'card' }, 'nights ', el('b', {}, nights.size)),
    el('div', { class: 'card' }, 'first ', el('b', {}, jdToIso(rows[0].jd))),
    el('div', { class: 'card' }, 'last ', el('b', {}, jdToIso(newest.jd))),
    el('div', { class: 'card' }, 'position ', el('b', { class: 'mono' }, `${fixed(newest.ra, 5)} ${fixed(newest.dec, 5)}`)),
    el('div', { class: 'card' }, 'detections plotted ', el('b', {}, points.detections.length), el('span', { class: 'muted' }, ` (${points.detections.length - rows.length} from history), ${points.limits.length} upper limits`)),
  );
  drawLightCurve($('lightcurve'), points);
  $('alerts').replaceChildren(alertTable(rows));
  showCutouts(rows.some((r) => r.candid === wantedCandid) ? wantedCandid : newest.candid);
  document.body.dataset.ready = 'true';
} catch (err) {
  showError($('lightcurve'), err.status === 404 ? { message: `The archive has no alerts of object ${objectId}.`, code: err.code } : err);
  $('download').remove();
  document.body.dataset.ready = 'error';
}
