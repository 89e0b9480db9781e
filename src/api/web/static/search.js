import { BANDS, api, el, fixed, jdToIso, showError } from './common.js';

const results = document.getElementById('results');
const field = (form, name) => form.elements.namedItem(name).value.trim();

document.getElementById('by-object').addEventListener('submit', (e) => {
  e.preventDefault();
  location.assign(`/objects/${encodeURIComponent(field(e.target, 'objectId'))}`);
});

document.getElementById('by-candid').addEventListener('submit', async (e) => {
  e.preventDefault();
  const candid = field(e.target, 'candid');
  results.replaceChildren(el('p', { class: 'muted' }, 'Looking…'));
  try {
    const doc = await api(`/v1/alerts/${encodeURIComponent(candid)}`);
    location.assign(`/objects/${encodeURIComponent(doc.objectId)}?candid=${doc.candid}`);
  } catch (err) {
    showError(results, err);
  }
});

document.getElementById('by-cone').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = new URLSearchParams({ ra: field(e.target, 'ra'), dec: field(e.target, 'dec'), radius: field(e.target, 'radius') });
  results.replaceChildren(el('p', { class: 'muted' }, 'Searching…'));
  try {
    const doc = await api(`/v1/cone?${q}`);
    const head = ['objectId', 'candid', 'time (UTC)', 'band', 'magpsf', 'ra', 'dec', 'distance (″)'];
    results.replaceChildren(
      el('p', {}, `${doc.count} alert${doc.count === 1 ? '' : 's'} within ${doc.radiusDeg}° of (${doc.ra}, ${doc.dec})`, doc.truncated ? ' — more exist; narrow the radius' : ''),
      el(
        'table',
        { id: 'cone-table' },
        el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
        el(
          'tbody',
          {},
          doc.alerts.map((a) =>
            el(
              'tr',
              {},
              el('td', {}, el('a', { href: `/objects/${encodeURIComponent(a.objectId)}?candid=${a.candid}` }, a.objectId)),
              el('td', { class: 'mono' }, a.candid),
              el('td', {}, jdToIso(a.jd)),
              el('td', {}, BANDS[a.fid]?.name ?? a.fid),
              el('td', { class: 'num' }, fixed(a.magpsf, 3)),
              el('td', { class: 'num' }, fixed(a.ra, 6)),
              el('td', { class: 'num' }, fixed(a.dec, 6)),
              el('td', { class: 'num' }, fixed(a.distanceArcsec, 2)),
            ),
          ),
        ),
      ),
    );
  } catch (err) {
    showError(results, err);
  }
});
