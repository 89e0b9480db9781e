import { api, el, fmtBytes, nightLabel, showError } from './common.js';

const table = document.getElementById('nights');
const calendar = document.getElementById('calendar');

function row(n) {
  const t = n.tarball;
  return el(
    'tr',
    { id: `night-${n.night}-${n.programid}`, dataset: { night: n.night, programid: String(n.programid) } },
    el('td', {}, nightLabel(n.night)),
    el('td', { class: 'num' }, n.programid),
    el('td', { class: `state-${n.state}` }, n.state, n.reopened > 0 ? el('span', { class: 'muted' }, ` (reopened ${n.reopened}×)`) : null),
    el('td', { class: 'num' }, n.alerts.toLocaleString('en-US')),
    el('td', { class: 'num' }, fmtBytes(n.bytes)),
    el('td', {}, n.stored ?? ''),
    el('td', {}, t ? el('a', { href: t.url, download: '' }, t.url.split('/').pop()) : el('span', { class: 'muted' }, 'not closed yet')),
    el('td', { class: 'num' }, t ? fmtBytes(t.bytes) : ''),
    el('td', { class: 'mono' }, t ? t.md5 : ''),
    el('td', {}, t ? el('a', { href: `${t.url.slice(0, t.url.lastIndexOf('/') + 1)}MD5SUMS` }, 'MD5SUMS') : ''),
    el('td', {}, el('a', { href: `/replays?night=${n.night}&programid=${n.programid}` }, 'replay…')),
  );
}

/** A month grid per month that has nights; a day with alerts links to its row. */
function months(nights) {
  const byMonth = new Map();
  for (const n of nights) {
    const key = n.night.slice(0, 6);
    const days = byMonth.get(key) ?? new Map();
    days.set(Number(n.night.slice(6, 8)), (days.get(Number(n.night.slice(6, 8))) ?? 0) + n.alerts);
    byMonth.set(key, days);
  }
  return [...byMonth.entries()].map(([ym, days]) => {
    const year = Number(ym.slice(0, 4));
    const month = Number(ym.slice(4, 6));
    const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const cells = ['Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa'].map((d) => el('div', { class: 'head' }, d));
    for (let i = 0; i < first; i++) cells.push(el('div', { class: 'head' }));
    for (let d = 1; d <= length; d++) {
      const alerts = days.get(d);
      const night = `${ym}${String(d).padStart(2, '0')}`;
      cells.push(
        alerts === undefined
          ? el('div', {}, d)
          : el('div', { class: 'has', title: `${alerts.toLocaleString('en-US')} alerts`, onclick: () => document.querySelector(`tr[data-night="${night}"]`)?.scrollIntoView() }, d, el('br'), alerts.toLocaleString('en-US')),
      );
    }
    const label = new Date(Date.UTC(year, month - 1, 1)).toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
    return el('div', { class: 'month' }, el('h2', {}, label), el('div', { class: 'calendar' }, cells));
  });
}

try {
  const { nights } = await api('/v1/nights');
  if (nights.length === 0) {
    table.replaceChildren(el('p', {}, 'The archive holds no night yet.'));
  } else {
    const newestFirst = [...nights].reverse();
    calendar.replaceChildren(...months(newestFirst));
    const head = ['night', 'programid', 'state', 'alerts', 'alert bytes', 'stored', 'tarball', 'size', 'MD5', '', ''];
    table.replaceChildren(
      el('table', { id: 'nights-table' }, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, newestFirst.map(row))),
    );
  }
} catch (err) {
  showError(table, err);
}
