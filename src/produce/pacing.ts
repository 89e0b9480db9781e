/**
 * When the next alert may be sent. Three modes: as fast as possible; a smooth rate (alert n is due
 * n / rate seconds after the start); or like the telescope, each exposure's burst at once, the bursts
 * as far apart as their jd says (divided by `speed`).
 */
export type PublishPacing = { mode: 'asap' } | { mode: 'rate'; alertsPerSec: number } | { mode: 'exposures'; speed: number };

/** How far a rate-paced sender may fall behind its schedule and still catch up, in ms. */
const MAX_CATCH_UP_MS = 1000;

export class PublishPacer {
  readonly #pacing: PublishPacing;
  readonly #now: () => number;
  #startMs: number | undefined;
  #firstJd: number | undefined;
  #lastJd: number | undefined;
  #sent = 0;

  constructor(pacing: PublishPacing, now: () => number = () => performance.now()) {
    this.#pacing = pacing;
    this.#now = now;
  }

  /** Whether this alert starts a new exposure burst (exposure pacing only). */
  startsBurst(jd: number | undefined): boolean {
    return this.#pacing.mode === 'exposures' && jd !== undefined && this.#lastJd !== undefined && jd !== this.#lastJd;
  }

  /** Milliseconds to wait before sending the next alert (0 when it is due), and counts it as sent. */
  next(jd: number | undefined): number {
    const now = this.#now();
    this.#startMs ??= now;
    const n = this.#sent++;
    switch (this.#pacing.mode) {
      case 'asap':
        return 0;
      case 'rate': {
        const dueMs = this.#startMs + (n * 1000) / this.#pacing.alertsPerSec;
        // More than a second behind (a stalled broker): start the schedule again rather than burst to catch up.
        if (dueMs < now - MAX_CATCH_UP_MS) this.#startMs = now - (n * 1000) / this.#pacing.alertsPerSec;
        return Math.max(0, dueMs - now);
      }
      case 'exposures': {
        if (jd === undefined) return 0;
        this.#firstJd ??= jd;
        this.#lastJd = jd;
        return Math.max(0, this.#startMs + ((jd - this.#firstJd) * 86_400_000) / this.#pacing.speed - now);
      }
    }
  }
}
