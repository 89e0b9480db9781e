import { describe, expect, it } from 'vitest';
import { ZadsError } from '../src/errors.ts';
import { Backoff, retry } from '../src/retry.ts';

const FAST = { initialMs: 1, maxMs: 4, maxAttempts: 5 };

describe('Backoff', () => {
  it('doubles from the first wait up to the cap, and starts again after reset()', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 2000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 2000]);
    expect(b.attempts).toBe(4);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('spreads each wait by the jitter', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.2 });
    for (let i = 0; i < 50; i++) expect(b.next()).toSatisfy((ms: number) => ms >= 800 && ms <= 1200);
  });
});

describe('retry', () => {
  it('retries a retriable failure until it succeeds', async () => {
    let tries = 0;
    const retried: number[] = [];
    await retry(
      async () => {
        if (++tries < 3) throw new ZadsError('SERVICE_UNAVAILABLE', 'down');
      },
      { ...FAST, onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(tries).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('never retries a bug or an unknown error, and throws it as a ZadsError', async () => {
    for (const thrown of [new TypeError('x is undefined'), new ZadsError('INTERNAL', 'bug', { retriable: true })]) {
      let tries = 0;
      const failed = retry(async () => {
        tries++;
        throw thrown;
      }, FAST);
      await expect(failed).rejects.toMatchObject({ code: 'INTERNAL', retriable: false });
      expect(tries).toBe(1);
    }
  });

  it('gives up after maxAttempts, and stops when the failed try landed after all', async () => {
    let tries = 0;
    const down = () => {
      tries++;
      return Promise.reject(new ZadsError('KAFKA_TIMEOUT', 'slow'));
    };
    await expect(retry(down, FAST)).rejects.toMatchObject({ code: 'KAFKA_TIMEOUT' });
    expect(tries).toBe(5);
    tries = 0;
    await retry(down, { ...FAST, landed: async () => true });
    expect(tries).toBe(1);
  });
});
