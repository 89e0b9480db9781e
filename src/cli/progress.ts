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

function rates(c: ProgressCounts): { perSec: number; mbPerSec: number } {
  return c.seconds > 0 ? { perSec: c.done / c.seconds, mbPerSec: c.bytes / MIB / c.seconds } : { perSec: 0, mbPerSec: 0 };
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
  const line = (c: ProgressCounts) => {
    const { perSec, mbPerSec } = rates(c);
    const of = options.total ? `/${options.total} ${unit} (${Math.floor((100 * c.done) / options.total)}%)` : ` ${unit}`;
    const skipped = c.skipped ? `, ${c.skipped} skipped` : '';
    stream.write(`${options.label}: ${c.done}${of}, ${perSec.toFixed(0)} ${unit}/s, ${mbPerSec.toFixed(1)} MB/s${skipped}\n`);
    printed = c;
  };
  return {
    update(c) {
      last = c;
      const now = performance.now();
      if (now - lastMs >= intervalMs) {
        lastMs = now;
        line(c);
      }
    },
    stop() {
      if (last && last !== printed) line(last);
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
  bar.start(known ? options.total! : 0, 0, { perSec: '0', mbPerSec: '0.0' });
  let stopped = false;
  return {
    update(c) {
      const { perSec, mbPerSec } = rates(c);
      bar.update(c.done, { perSec: perSec.toFixed(0), mbPerSec: mbPerSec.toFixed(1) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
