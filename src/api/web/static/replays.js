/* global uPlot */
import { api, el, fixed, nightLabel, showError } from './common.js';

const $ = (id) => document.getElementById(id);
const form = $('start');
const TOKEN_KEY = 'zads.replayToken';
const POLL_MS = 500;
const ENDED = ['done', 'cancelled', 'failed'];

let nights = [];
let current; // { id, total, chart, samples: {t, requested, interval, average}, last: {t, sent} }

const token = () => form.elements.namedItem('token').value.trim();
form.elements.namedItem('token').value = sessionStorage.getItem(TOKEN_KEY) ?? '';

async function loadNights() {
  const wanted = new URLSearchParams(location.search);
  try {
    ({ nights } = await api('/v1/nights'));
  } catch (err) {
    showError($('message'), err);
    return;
  }
  const select = form.elements.namedItem('night');
  select.replaceChildren(
    ...[...nights].reverse().map((n) =>
      el('option', { value: `${n.night}/${n.programid}`, selected: n.night === wanted.get('night') && String(n.programid) === (wanted.get('programid') ?? '1') }, `${nightLabel(n.night)} · programid ${n.programid} · ${n.alerts.toLocaleString('en-US')} alerts`),
    ),
  );
}

/** The replay target policy for the token: which topics the topic field may name. */
async function loadPolicy() {
  if (!token()) return;
  try {
    const policy = await api('/v1/replay-policy', { token: token() });
    const [night, programid] = (form.elements.namedItem('night').value || '/').split('/');
    const nightTopic = night ? `ztf_${night}_programid${programid}` : '{nightTopic}';
    const shown = (p) => p.replaceAll('{nightTopic}', nightTopic);
    form.elements.namedItem('topic').placeholder = shown(policy.topicTemplate);
    $('topic-rule').dataset.allowed = policy.allowedTopics.join(' ');
    $('topic-rule').replaceChildren(
      'Topic: empty for ',
      el('code', {}, shown(policy.topicTemplate)),
      `; this token may write ${policy.source === 'token' ? '(its own list)' : '(the server\'s list)'}: `,
      ...policy.allowedTopics.flatMap((p, i) => [i > 0 ? ', ' : '', el('code', {}, shown(p))]),
      ' ("*" is any run of letters, digits, ".", "_", "-"). Always refused: ',
      ...policy.refused.flatMap((r, i) => [i > 0 ? ', ' : '', el('code', {}, r.topics), ` (${r.rule})`]),
      `. ${policy.override[0].toUpperCase()}${policy.override.slice(1)}.`,
    );
  } catch (err) {
    showError($('topic-rule'), err);
  }
}

async function loadList() {
  if (!token()) return;
  try {
    const { replays } = await api('/v1/replays', { token: token() });
    const head = ['id', 'night', 'topic', 'state', 'sent', 'requested /s', 'achieved /s', 'started by', 'started at'];
    $('list').replaceChildren(
      replays.length === 0
        ? el('p', { class: 'muted' }, 'No replay has been started on this server since it started.')
        : el(
            'table',
            { id: 'replays-table' },
            el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
            el(
              'tbody',
              {},
              replays.map((r) =>
                el(
                  'tr',
                  { dataset: { id: r.id } },
                  el('td', {}, el('a', { href: '#', onclick: (e) => (e.preventDefault(), follow(r.id, totalOf(r.selection, undefined))) }, r.id)),
                  el('td', {}, r.selection.night),
                  el('td', { class: 'mono' }, r.topic),
                  el('td', {}, r.state),
                  el('td', { class: 'num' }, r.sentTotal),
                  el('td', { class: 'num' }, r.requestedRate === null ? 'max' : fixed(r.requestedRate, 1)),
                  el('td', { class: 'num' }, fixed(r.achievedRate, 1)),
                  el('td', {}, r.startedBy ?? ''),
                  el('td', {}, r.startedAt.replace('T', ' ').slice(0, 19)),
                ),
              ),
            ),
          ),
    );
  } catch (err) {
    showError($('list'), err);
  }
}

/** The alerts a replay of the whole night would send (a window or maxAlerts make it fewer). */
function totalOf(selection, maxAlerts) {
  const n = nights.find((x) => x.night === selection.night && x.programid === selection.programid);
  if (!n) return null;
  const windowed = selection.fromJd !== undefined || selection.toJd !== undefined || selection.objectIds !== undefined;
  if (windowed) return maxAlerts ?? null;
  return maxAlerts === undefined ? n.alerts : Math.min(n.alerts, maxAlerts);
}

function rateChart(target) {
  const opts = {
    width: Math.max(320, target.clientWidth - 16),
    height: 260,
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [{ label: 'seconds since start', labelSize: 30 }, { label: 'alerts / s', labelSize: 30 }],
    series: [
      { label: 's' },
      { label: 'requested', stroke: '#888', dash: [6, 4], width: 2, value: (_u, v) => (v === null ? '--' : fixed(v, 1)) },
      { label: 'achieved (last interval)', stroke: '#1f5fbf', width: 2, value: (_u, v) => fixed(v, 1) },
      { label: 'achieved (average)', stroke: '#2a9d3a', width: 2, value: (_u, v) => fixed(v, 1) },
    ],
  };
  return new uPlot(opts, [[], [], [], []], target);
}

function render(view) {
  const c = current;
  $('replay-state').textContent = view.state + (view.error ? ` — ${view.error}` : '');
  $('replay-sent').textContent = String(view.sentTotal);
  $('replay-topic').textContent = view.topic;
  $('replay-requested').textContent = view.requestedRate === null ? 'as fast as possible' : `${fixed(view.requestedRate, 1)} alerts/s`;
  $('replay-achieved').textContent = `${fixed(view.achievedRate, 1)} alerts/s`;
  const total = c.total ?? (ENDED.includes(view.state) ? view.sentTotal : null);
  $('replay-total').textContent = total === null ? '?' : String(total);
  const bar = $('replay-bar');
  bar.max = Math.max(1, total ?? view.sentTotal);
  bar.value = view.sentTotal;
  $('progress').dataset.state = view.state;
  $('progress').dataset.sent = String(view.sentTotal);

  const now = performance.now() / 1000;
  if (c.last && now > c.last.t) {
    const s = c.samples;
    s.t.push(now - c.t0);
    s.requested.push(view.requestedRate);
    s.interval.push(Math.max(0, (view.sentTotal - c.last.sent) / (now - c.last.t)));
    s.average.push(view.achievedRate);
    c.chart.setData([s.t, s.requested, s.interval, s.average]);
    $('rate-chart').dataset.samples = String(s.t.length);
  }
  c.last = { t: now, sent: view.sentTotal };
  for (const [id, enabled] of [['pause', view.state === 'running'], ['resume', view.state === 'paused'], ['cancel', !ENDED.includes(view.state)]]) $(id).disabled = !enabled;
}

async function follow(id, total) {
  if (current?.timer) clearTimeout(current.timer);
  $('progress').hidden = false;
  $('replay-id').textContent = id;
  const chartBox = $('rate-chart');
  chartBox.replaceChildren();
  current = { id, total, t0: performance.now() / 1000, samples: { t: [], requested: [], interval: [], average: [] } };
  current.chart = rateChart(chartBox);
  const mine = current;
  const tick = async () => {
    try {
      const view = await api(`/v1/replays/${encodeURIComponent(id)}`, { token: token() });
      if (mine !== current) return;
      render(view);
      if (ENDED.includes(view.state)) {
        await loadList();
        return;
      }
    } catch (err) {
      showError($('message'), err);
    }
    if (mine === current) mine.timer = setTimeout(tick, POLL_MS);
  };
  await tick();
}

for (const action of ['pause', 'resume', 'cancel']) {
  $(action).addEventListener('click', async () => {
    try {
      render(await api(`/v1/replays/${encodeURIComponent(current.id)}/${action}`, { method: 'POST', token: token() }));
    } catch (err) {
      showError($('message'), err);
    }
  });
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, token());
  const [night, programid] = form.elements.namedItem('night').value.split('/');
  const rate = form.elements.namedItem('rate').value;
  const topic = field('topic');
  const maxAlerts = field('maxAlerts');
  const body = {
    night,
    programid: Number(programid),
    pacing: rate ? { mode: 'rate', alertsPerSec: Number(rate) } : { mode: 'max' },
    ...(topic ? { topic } : {}),
    ...(maxAlerts ? { maxAlerts: Number(maxAlerts) } : {}),
  };
  $('start-button').disabled = true;
  $('message').replaceChildren();
  try {
    const view = await api('/v1/replays', { method: 'POST', token: token(), body });
    $('message').replaceChildren(el('p', {}, `Replay ${view.id} started: ${view.topic}.`));
    await loadList();
    await follow(view.id, totalOf(view.selection, body.maxAlerts));
  } catch (err) {
    showError($('message'), err);
  } finally {
    $('start-button').disabled = false;
  }
});

function field(name) {
  return form.elements.namedItem(name).value.trim();
}

form.elements.namedItem('token').addEventListener('change', () => Promise.all([loadList(), loadPolicy()]));
form.elements.namedItem('night').addEventListener('change', loadPolicy);
await loadNights();
await Promise.all([loadList(), loadPolicy()]);
