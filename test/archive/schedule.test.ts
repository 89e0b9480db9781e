import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeIdleNights, idleNights, startCloseSchedule } from '../../src/archive/schedule.ts';
import type { CloseReport } from '../../src/archive/close/index.ts';
import { addAlerts, realAlerts, tempArchive } from '../helpers/archive.ts';
import type { TempArchive } from '../helpers/archive.ts';

const MINUTE = 60_000;

describe('the night-close schedule', () => {
  let t: TempArchive;
  beforeEach(async () => {
    t = await tempArchive();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('runOnce closes the nights idle for idleMinutes by the injected clock, and empty nights whose day is over', async () => {
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 5), { night: '20180819', programid: 1 });
    await addAlerts(t.archive, [], { night: '20180818', programid: 1 });
    await addAlerts(t.archive, [], { night: '20990101', programid: 1 });
    const lastAlertAt = t.archive.catalogue.night('20180819', 1)!.lastAlertAt!;
    let clock = lastAlertAt + 59 * MINUTE;
    const closed: CloseReport[] = [];
    const schedule = startCloseSchedule(t.archive, { cronExpression: '0 14 * * *', idleMinutes: 60, now: () => clock, onClosed: (r) => closed.push(r) });
    try {
      const first = await schedule.runOnce();
      expect(first.closed.map((r) => `${r.night}:${r.alerts}`)).toEqual(['20180818:0']);
      expect(t.archive.catalogue.night('20180819', 1)?.state).toBe('open');

      clock = lastAlertAt + 60 * MINUTE;
      const second = await schedule.runOnce();
      expect(second.closed.map((r) => `${r.night}:${r.alerts}`)).toEqual(['20180819:5']);
      expect(second.failed).toEqual([]);
      expect(closed.map((r) => r.night)).toEqual(['20180818', '20180819']);
      // The night of a day not yet over stays open, empty or not.
      expect(t.archive.catalogue.night('20990101', 1)?.state).toBe('open');
      expect(idleNights(t.archive, { idleMinutes: 60, now: () => clock })).toEqual([]);
    } finally {
      await schedule.stop();
    }
  });

  it('drives the cron schedule (every second, UTC) to a close, and stops', async () => {
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 8), { night: '20180819', programid: 1 });
    let onClosed!: (r: CloseReport) => void;
    const closedOnce = new Promise<CloseReport>((resolve) => (onClosed = resolve));
    const schedule = startCloseSchedule(t.archive, { cronExpression: '* * * * * *', idleMinutes: 0, onClosed: (r) => onClosed(r) });
    const report = await Promise.race([closedOnce, sleep(15_000).then(() => undefined)]);
    const stopped = schedule.stop();
    expect(schedule.stop()).toBe(stopped);
    await stopped;
    expect(report).toMatchObject({ night: '20180819', alerts: 8, closed: true });
    expect(t.archive.catalogue.night('20180819', 1)?.state).toBe('closed');

    // Stopped: a reopened night is left alone.
    await addAlerts(t.archive, alerts.slice(8, 9), { night: '20180819', programid: 1 });
    await sleep(2_200);
    expect(t.archive.catalogue.night('20180819', 1)?.state).toBe('open');
  });

  it('goes on with the other nights when one fails, and reports it', async () => {
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 2), { night: '20180817', programid: 1 });
    await addAlerts(t.archive, alerts.slice(2, 4), { night: '20180819', programid: 1 });
    // A segment lost from under the catalogue: that night cannot be closed.
    await t.archive.segments.close();
    rmSync(join(t.dataDir, 'segments/20180817'), { recursive: true });
    const result = await closeIdleNights(t.archive, { idleMinutes: 0 });
    expect(result.closed.map((r) => r.night)).toEqual(['20180819']);
    expect(result.failed).toMatchObject([{ night: '20180817', programid: 1, error: { code: 'STORAGE_NOT_FOUND' } }]);
    expect(t.archive.catalogue.night('20180817', 1)?.state).toBe('open');
  });

  it('refuses a bad cron expression, naming the config key', () => {
    expect(() => startCloseSchedule(t.archive, { cronExpression: 'every day', idleMinutes: 60 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('archive.closeSchedule') }),
    );
  });
});
