import { describe, expect, it } from 'vitest';
import { RateWindow, createProgress } from '../../src/cli/progress.ts';

/** A non-terminal stream that keeps what is written. */
function captured(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

const MB = 1024 * 1024;

describe('progress rates', () => {
  // Regression: the demo's first line of a phase said "43573183 alerts/s, 3095927.7 MB/s" (43 alerts in a microsecond).
  it('shows no rate at a phase\'s first instant', () => {
    const { stream, lines } = captured();
    const p = createProgress({ label: 'produce', unit: 'alerts', stream, lineIntervalMs: 0 });
    p.update({ done: 43, bytes: 43 * 70_000, seconds: 0.000001 });
    expect(lines).toEqual(['produce: 43 alerts, … alerts/s, … MB/s']);
  });

  it('reports the rate of the last seconds, not of the whole phase', () => {
    const { stream, lines } = captured();
    const p = createProgress({ label: 'mirror', unit: 'alerts', stream, lineIntervalMs: 0 });
    // 1,000 alerts/s for 10 s, then 100/s for 10 s.
    for (let t = 1; t <= 20; t++) {
      const done = t <= 10 ? 1000 * t : 10_000 + 100 * (t - 10);
      p.update({ done, bytes: done * MB, seconds: t });
    }
    expect(lines.at(-1)).toBe('mirror: 11000 alerts, 100 alerts/s, 100.0 MB/s');
  });

  it('ends with the rate of the whole phase', () => {
    const { stream, lines } = captured();
    const p = createProgress({ label: 'mirror', unit: 'alerts', stream, lineIntervalMs: 1e9 });
    for (let t = 1; t <= 20; t++) {
      const done = t <= 10 ? 1000 * t : 10_000 + 100 * (t - 10);
      p.update({ done, bytes: done * MB, seconds: t });
    }
    p.stop();
    expect(lines).toEqual(['mirror: 1000 alerts, … alerts/s, … MB/s', 'mirror: 11000 alerts, 550 alerts/s, 550.0 MB/s']);
  });

  it('keeps the window to the last 5 s of updates', () => {
    const w = new RateWindow();
    for (let t = 0; t <= 30; t++) w.add({ done: t < 25 ? 0 : (t - 25) * 10, bytes: 0, seconds: t });
    expect(w.current().perSec).toBe('10');
  });
});
