import cliProgress from 'cli-progress';

/** Counts shown by a progress display. */
export interface ProgressCounts {
  done: number;
  bytes: number;
  seconds: number;
  skipped?: number;
}

export interface ProgressOptions {
  /** What is being counted, e.g. "produce". */
  label: string;
  /** Expected total, when known (draws a bar on a terminal). */
  total?: number;
  /** Unit of `done`, plural, e.g. "alerts". */
  unit?: string;
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Off a terminal, a plain line at most this often, in ms. Default 5000. */
  lineIntervalMs?: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** Removes the bar (or prints the last line); safe to call twice. */
  stop(): void;
}

const MIB = 1024 * 1024;
/** Rates are taken over the last few seconds of updates, not since the phase began. */
const WINDOW_S = 5;
/** Below this span of updates there is no rate to show yet (a phase's first instant would give millions/s). */
const MIN_SPAN_S = 0.5;

/** Rates over a sliding window of the updates (and, for the last line, over the whole phase). */
export class RateWindow {
  readonly #samples: ProgressCounts[] = [];

  add(c: ProgressCounts): void {
    this.#samples.push(c);
    // Keep one sample at or before the window's start, so the span covers the whole window.
    while (this.#samples.length > 2 && this.#samples[1]!.seconds <= c.seconds - WINDOW_S) this.#samples.shift();
  }

  /** Units and MB per second over the window, as shown ("…" while the updates span too little time). */
  current(): { perSec: string; mbPerSec: string } {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last) return { perSec: '…', mbPerSec: '…' };
    return show(last.done - first.done, last.bytes - first.bytes, last.seconds - first.seconds);
  }

  /** Over the whole phase: the rate a final line reports. */
  static overall(c: ProgressCounts): { perSec: string; mbPerSec: string } {
    return show(c.done, c.bytes, c.seconds);
  }
}

function show(done: number, bytes: number, seconds: number): { perSec: string; mbPerSec: string } {
  if (seconds < MIN_SPAN_S) return { perSec: '…', mbPerSec: '…' };
  return { perSec: (done / seconds).toFixed(0), mbPerSec: (bytes / MIB / seconds).toFixed(1) };
}

/**
 * Progress of long work on stderr: a bar when stderr is a terminal, otherwise a plain line every few
 * seconds (logs and CI keep a readable record; nothing redraws).
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'items';
  if (stream.isTTY) return barProgress(options, stream, unit);
  const intervalMs = options.lineIntervalMs ?? 5000;
  let lastMs = -Infinity;
  let last: ProgressCounts | undefined;
  let printed: ProgressCounts | undefined;
  const window = new RateWindow();
  const line = (c: ProgressCounts, { perSec, mbPerSec }: { perSec: string; mbPerSec: string }) => {
    const of = options.total ? `/${options.total} ${unit} (${Math.floor((100 * c.done) / options.total)}%)` : ` ${unit}`;
    const skipped = c.skipped ? `, ${c.skipped} skipped` : '';
    stream.write(`${options.label}: ${c.done}${of}, ${perSec} ${unit}/s, ${mbPerSec} MB/s${skipped}\n`);
    printed = c;
  };
  return {
    update(c) {
      last = c;
      window.add(c);
      const now = performance.now();
      if (now - lastMs >= intervalMs) {
        lastMs = now;
        line(c, window.current());
      }
    },
    stop() {
      if (last && last !== printed) line(last, RateWindow.overall(last));
    },
  };
}

function barProgress(options: ProgressOptions, stream: NodeJS.WriteStream, unit: string): Progress {
  const known = options.total !== undefined && options.total > 0;
  const bar = new cliProgress.SingleBar(
    {
      format: known
        ? `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {perSec} ${unit}/s | {mbPerSec} MB/s | ETA {eta_formatted}`
        : `${options.label} {value} ${unit} | {perSec} ${unit}/s | {mbPerSec} MB/s`,
      stream,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(known ? options.total! : 0, 0, { perSec: '…', mbPerSec: '…' });
  let stopped = false;
  const window = new RateWindow();
  return {
    update(c) {
      window.add(c);
      bar.update(c.done, window.current());
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
