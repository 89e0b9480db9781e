import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterateTarball, readContainer } from '../../src/alert/index.ts';
import type { ZtfAlert } from '../../src/alert/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { REPO_ROOT, exited, runZads, spawnZads } from '../helpers/cli.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { kafkaFor, readTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';

/**
 * The web pages in a real browser: Debian's chromium driven by playwright-core, against `zads serve`
 * started as a user would, over the real UW sample night imported with `zads archive import`.
 * Screenshots are kept in test-artifacts/web/ for a human to look at.
 */

const CHROMIUM = process.env.ZADS_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web');
const NIGHT = '20180819';
const TOKEN = `web-test-${randomUUID()}`;
const uw = kafkaFor(UW_BROKERS);

interface SampleObject {
  objectId: string;
  alerts: ZtfAlert[];
  /** Detections the light curve must show: the alerts, plus their newest alert's earlier detections (once per time and band). */
  detections: number;
  limits: number;
}

/** The sample object with the longest history: what a scientist would open first. */
async function richestObject(): Promise<SampleObject> {
  const byObject = new Map<string, ZtfAlert[]>();
  for await (const m of iterateTarball(SAMPLE_TARBALL)) {
    const alert = readContainer(m.bytes)[0]!.alert;
    byObject.set(alert.objectId, [...(byObject.get(alert.objectId) ?? []), alert]);
  }
  const objects = [...byObject.entries()].map(([objectId, alerts]) => {
    alerts.sort((a, b) => a.candidate.jd - b.candidate.jd);
    const at = new Set(alerts.map((a) => `${a.candidate.jd}/${a.candidate.fid}`));
    const limits = new Set<string>();
    for (const p of alerts[alerts.length - 1]!.prv_candidates ?? []) {
      if (p.magpsf !== null && p.magpsf !== undefined) at.add(`${p.jd}/${p.fid}`);
      else if (p.diffmaglim !== null && p.diffmaglim !== undefined) limits.add(`${p.jd}/${p.fid}`);
    }
    return { objectId, alerts, detections: at.size, limits: limits.size };
  });
  objects.sort((a, b) => b.detections - a.detections);
  return objects[0]!;
}

describe('web pages in headless Chromium, served by `zads serve` over the real sample night', () => {
  let dataDir: string;
  let server: ChildProcess;
  let serverExit: Promise<{ output: string }>;
  let url: string;
  let browser: Browser;
  let sample: SampleObject;
  const topics: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'zads-web-'));
    const imported = runZads(['archive', 'import', '--data', dataDir, SAMPLE_TARBALL], { timeoutMs: 120_000 });
    expect(imported.status, imported.stderr).toBe(0);
    const closed = runZads(['archive', 'close', '--data', dataDir, '--night', NIGHT], { timeoutMs: 120_000 });
    expect(closed.status, closed.stderr).toBe(0);
    const configFile = join(dataDir, 'zads.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        clusters: { uw: { brokers: UW_BROKERS } },
        replay: { allowedTopics: ['{nightTopic}_replay', 'zads-test-*'] },
        api: { tokens: [{ name: 'web-tester', sha256: createHash('sha256').update(TOKEN).digest('hex'), roles: ['replay'] }] },
      }),
    );
    sample = await richestObject();

    server = spawnZads(['serve', '--data', dataDir, '--port', '0', '--config', configFile]);
    serverExit = exited(server);
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`zads serve did not start: ${out}`)), 60_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await serverExit;
    }
    await deleteTopics(uw, topics).catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh page that records script errors, failed requests and CSP violations as test failures. */
  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (err) => problems.push(`${path}: page error ${err.message}`));
    page.on('console', (msg) => {
      // An API answer of 4xx is logged by the browser too; the page shows it, and each test checks that.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource: the server responded with a status of 4')) {
        problems.push(`${path}: console error ${msg.text()}`);
      }
    });
    page.on('response', (res) => {
      // Pages and their assets must all load; only API calls may answer 4xx (and are checked by the tests).
      if (res.status() >= 400 && !new URL(res.url()).pathname.startsWith('/v1/')) problems.push(`${path}: ${res.status()} for ${res.url()}`);
    });
    page.on('requestfailed', (req) => problems.push(`${path}: request failed ${req.url()} ${req.failure()?.errorText ?? ''}`));
    await page.goto(`${url}${path}`);
    return page;
  }

  it('the nights page lists the night with its alert count, tarball link and the MD5 of MD5SUMS', async () => {
    const page = await open('/');
    const row = page.locator(`tr[data-night="${NIGHT}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toBe('2018-08-19');
    expect(cells[2]).toContain('closed');
    expect(cells[3]).toBe('30');
    const link = row.locator('a[download]');
    expect(await link.getAttribute('href')).toBe(`/alerts/public/ztf_public_${NIGHT}.tar.gz`);
    // What the link points at is the tarball whose MD5 the page shows.
    const tarball = Buffer.from(await (await fetch(`${url}/alerts/public/ztf_public_${NIGHT}.tar.gz`)).arrayBuffer());
    expect(cells[8]).toBe(createHash('md5').update(tarball).digest('hex'));
    const md5sums = await (await fetch(`${url}${await row.locator('td:nth-child(10) a').getAttribute('href')}`)).text();
    expect(md5sums).toContain(`${cells[8]}  ztf_public_${NIGHT}.tar.gz`);
    await page.screenshot({ path: join(ARTIFACTS, 'nights.png'), fullPage: true });
    await page.close();
  });

  it("an object's page plots its detections and upper limits, lists its alerts and shows the three cutouts", async () => {
    const page = await open(`/objects/${sample.objectId}`);
    await page.waitForSelector('body[data-ready]');
    expect(await page.getAttribute('body', 'data-ready')).toBe('true');
    expect(await page.locator('h1').innerText()).toBe(sample.objectId);

    // The chart: a uPlot canvas whose series hold exactly the object's points.
    const chart = page.locator('#lightcurve');
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-plotted-points'))).toBe(sample.detections);
    expect(Number(await chart.getAttribute('data-detections'))).toBe(sample.detections);
    expect(Number(await chart.getAttribute('data-limits'))).toBe(sample.limits);
    const legend = await chart.locator('.u-legend').innerText();
    expect(legend).toMatch(/g detections|r detections/);
    if (sample.limits > 0) expect(legend).toContain('upper limits');

    // The table: one row per archived alert of the object, with its candid.
    const rows = page.locator('#alerts-table tbody tr');
    expect(await rows.count()).toBe(sample.alerts.length);
    expect(await rows.first().getAttribute('data-candid')).toBe(sample.alerts[0]!.candid.toString());

    // The cutouts: three images, decoded by the browser (naturalWidth > 0), 63×63 like ZTF's stamps.
    const images = page.locator('#cutouts img');
    expect(await images.count()).toBe(3);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#cutouts img')].every((i) => i.complete));
    const sizes = await images.evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((i) => [i.dataset.kind, i.naturalWidth, i.naturalHeight]));
    expect(sizes).toEqual([
      ['science', 63, 63],
      ['template', 63, 63],
      ['difference', 63, 63],
    ]);

    // The download link gives the object's alerts.
    const href = await page.locator('#download').getAttribute('href');
    const res = await fetch(`${url}${href}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/gzip');
    await page.screenshot({ path: join(ARTIFACTS, 'object.png'), fullPage: true });
    await page.close();
  });

  it('an unknown object says so instead of drawing an empty chart', async () => {
    const page = await open('/objects/ZTF99zzzzzzz');
    await page.waitForSelector('body[data-ready]');
    expect(await page.locator('#lightcurve').innerText()).toContain('no alerts of object ZTF99zzzzzzz');
    await page.close();
  });

  it('search finds the object by candid and by a cone around its position', async () => {
    const alert = sample.alerts[0]!;
    const page = await open('/search');
    await page.fill('#by-candid input[name=candid]', alert.candid.toString());
    await Promise.all([page.waitForURL(`**/objects/${alert.objectId}?candid=${alert.candid}`), page.click('#by-candid button')]);
    await page.waitForSelector('body[data-ready=true]');
    expect(await page.locator('tr.selected').getAttribute('data-candid')).toBe(alert.candid.toString());

    await page.goto(`${url}/search`);
    await page.fill('#by-cone input[name=ra]', String(alert.candidate.ra));
    await page.fill('#by-cone input[name=dec]', String(alert.candidate.dec));
    await page.fill('#by-cone input[name=radius]', '0.001');
    await page.click('#by-cone button');
    await page.waitForSelector('#cone-table');
    const objects = await page.locator('#cone-table tbody tr td:first-child').allInnerTexts();
    expect(objects).toContain(alert.objectId);
    await page.screenshot({ path: join(ARTIFACTS, 'search.png'), fullPage: true });
    await page.close();
  });

  it('starts a replay from the page with a token, follows its progress and charts requested against achieved rate', async () => {
    const topic = `zads-test-web-replay-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    const page = await open(`/replays?night=${NIGHT}&programid=1`);
    await page.waitForSelector(`select[name=night] option[value="${NIGHT}/1"]`, { state: 'attached' });
    expect(await page.locator('select[name=night]').inputValue()).toBe(`${NIGHT}/1`);

    // A wrong token is refused with the API's message.
    await page.fill('input[name=token]', 'not-the-token');
    await page.fill('input[name=topic]', topic);
    await page.fill('input[name=rate]', '6');
    await page.click('#start-button');
    await expect.poll(() => page.locator('#message').innerText(), { timeout: 10_000 }).toContain('unknown bearer token');

    await page.fill('input[name=token]', TOKEN);
    // Once it has a token, the topic field says which topics the token may write, and what is always refused.
    await page.dispatchEvent('input[name=token]', 'change');
    await expect.poll(() => page.locator('#topic-rule').getAttribute('data-allowed'), { timeout: 10_000 }).toBe('{nightTopic}_replay zads-test-*');
    const rule = await page.locator('#topic-rule').innerText();
    expect(rule).toContain(`this token may write (the server's list): ztf_${NIGHT}_programid1_replay, zads-test-*`);
    expect(rule).toContain('Always refused: ztf_YYYYMMDD_programidN (upstream-nightly-topic)');
    expect(await page.locator('input[name=topic]').getAttribute('placeholder')).toBe(`ztf_${NIGHT}_programid1_replay`);
    // A topic the policy refuses is refused with the API's words, naming the topic and the rule.
    await page.fill('input[name=topic]', `ztf_${NIGHT}_programid1`);
    await page.click('#start-button');
    await expect.poll(() => page.locator('#message').innerText(), { timeout: 10_000 }).toContain(`replay topic "ztf_${NIGHT}_programid1" refused (rule upstream-nightly-topic)`);
    await page.fill('input[name=topic]', topic);
    await page.click('#start-button');
    await page.waitForSelector('#progress:not([hidden])');
    expect(await page.locator('#replay-total').innerText()).toBe('30');
    // Progress shows while it runs (30 alerts at 6/s take about 5 s), then it ends done with all 30 sent.
    await page.waitForFunction(() => Number(document.getElementById('progress')!.dataset.sent) > 0, undefined, { timeout: 60_000 });
    await page.waitForSelector('#progress[data-state=done]', { timeout: 120_000 });
    expect(await page.locator('#replay-sent').innerText()).toBe('30');
    expect(await page.locator('#replay-requested').innerText()).toBe('6.0 alerts/s');
    expect(Number(await page.locator('#rate-chart').getAttribute('data-samples'))).toBeGreaterThanOrEqual(2);
    const legend = await page.locator('#rate-chart .u-legend').innerText();
    expect(legend).toContain('requested');
    expect(legend).toContain('achieved');
    expect(await page.locator(`#replays-table tr[data-id] td:nth-child(3)`).allInnerTexts()).toContain(topic);
    await page.screenshot({ path: join(ARTIFACTS, 'replay.png'), fullPage: true });
    await page.close();

    // The replay really happened: the topic holds the night's 30 alerts.
    const records = await readTopic(uw, topic, 30, { settleMs: 1000, withCandid: true });
    expect(new Set(records.map((r) => r.candid)).size).toBe(30);
  });

  it('no page had a script error, a blocked resource or a failed request', () => {
    expect(problems).toEqual([]);
  });
});
