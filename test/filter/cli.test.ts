import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../src/archive/index.ts';
import { bright, purity } from '../../src/filter/index.ts';
import { backgroundZads, runZads } from '../helpers/cli.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { freshNight, kafkaFor, readTopic } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { alertMessages, archiveAlerts, fixture, tarballAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

const ctx = { source: {}, signal: new AbortController().signal };

describe('zads filter', () => {
  let dir: string;
  let alerts: SampleAlert[];
  let pure: SampleAlert[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zads-filter-cli-'));
    alerts = await tarballAlerts();
    pure = alerts.filter((a) => purity.test(a.decoded.alert, ctx));
    const archive = await openArchive({ dataDir: join(dir, 'data'), writer: true });
    await archiveAlerts(archive, alerts, '20180819', 1);
    await archive.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the passing alerts of a UW tarball, then a summary', () => {
    const r = runZads(['filter', '--from', SAMPLE_TARBALL, '--filter', 'purity', '--list']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, -2)).toEqual(pure.map((a) => `purity  ${a.candid}  ${a.objectId}`));
    expect(lines.slice(-2)).toEqual([
      '30 item(s), 30 alert(s) judged; 0 undecodable, 0 unreadable (skipped)',
      `purity 1.0.0: ${pure.length} of 30 alert(s) passed, 0 error(s), 0 timeout(s)`,
    ]);
  });

  it('--json lists JSON lines (candid as a string) and puts the summary on stderr', () => {
    const r = runZads(['filter', '--from', SAMPLE_TARBALL, '--filter', 'purity', '--list', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { filter: string; candid: string; objectId: string; source: { member: string } });
    expect(rows.map((x) => x.candid)).toEqual(pure.map((a) => a.candid));
    expect(rows[0]!.source.member).toBe(`${pure[0]!.candid}.avro`);
    expect(r.stderr).toContain('30 item(s), 30 alert(s) judged');
  });

  it('writes one tarball per filter from an archived night, a module filter beside a predefined one', () => {
    const out = join(dir, 'n_{filter}.tar.gz');
    const r = runZads(['filter', '--data', join(dir, 'data'), '--night', '20180819', '--program', '1', '--filter', 'bright', '--filter', fixture('odd-candid.ts'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const brightCount = alerts.filter((a) => bright.test(a.decoded.alert, ctx)).length;
    const oddCount = alerts.filter((a) => BigInt(a.candid) % 2n === 1n).length;
    expect(r.stdout).toContain(`bright 1.0.0: ${brightCount} of 30 alert(s) passed, 0 error(s), 0 timeout(s) → ${join(dir, 'n_bright.tar.gz')} (${brightCount} member(s))`);
    expect(r.stdout).toContain(`odd-candid 2.1.0: ${oddCount} of 30 alert(s) passed`);
    expect(existsSync(join(dir, 'n_bright.tar.gz'))).toBe(true);
    expect(existsSync(join(dir, 'n_odd-candid.tar.gz'))).toBe(true);
  });

  it('says what is wrong with the command line, with exit 2', () => {
    const cases: [string[], string][] = [
      [['--from', SAMPLE_TARBALL, '--filter', 'purity'], 'batch mode needs one of --out FILE.tar.gz and --list'],
      [['--from', SAMPLE_TARBALL, '--filter', 'purity', '--filter', 'bright', '--out', join(dir, 'x.tar.gz')], 'with several filters --out must contain {filter}'],
      [['--night', '20180819', '--from', SAMPLE_TARBALL, '--filter', 'purity', '--list'], 'give --night (an archived night) or --from (files), not both'],
      [['--filter', 'purity', '--list'], '--out, --list and --data are for batch mode'],
      [['--from', SAMPLE_TARBALL, '--filter', fixture('bad-shape.ts'), '--list'], `${fixture('bad-shape.ts')}: the filter's "name" must be`],
      [['--data', join(dir, 'data'), '--night', '20180820', '--filter', 'purity', '--list'], 'night 20180820 programid 1 is not in the archive'],
    ];
    for (const [args, message] of cases) {
      const r = runZads(['filter', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });

  it('stream mode: runs until SIGTERM, writing <topic>_<filter>, then prints what it did', async () => {
    const uw = kafkaFor(UW_BROKERS);
    const night = await freshNight(uw, { night: '20240108', partitions: 2, messages: alertMessages(alerts) });
    const run = backgroundZads(['filter', '--brokers', UW_BROKERS.join(','), '--topics', night.pattern.source, '--filter', 'purity', '--name', `cli-${night.programid}`]);
    const out = await readTopic(uw, `${night.topic}_purity`, pure.length, { withCandid: true });
    expect(out.map((r) => r.candid).sort()).toEqual(pure.map((a) => a.candid).sort());
    run.child.kill('SIGTERM');
    const { code, stdout, stderr } = await run.exit;
    expect(code).toBe(0);
    expect(stderr).toContain(`zads filter: purity on ${night.pattern.source} at ${UW_BROKERS.join(',')} → <topic>_{filter}, group zads-filter-cli-${night.programid}`);
    expect(stdout).toContain(`30 record(s) consumed from 1 topic(s)`);
    expect(stdout).toContain(`purity 1.0.0: ${pure.length} of 30 alert(s) passed, 0 error(s), 0 timeout(s); ${pure.length} record(s) written`);
  });
});
