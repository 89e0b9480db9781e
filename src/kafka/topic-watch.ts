import type { Admin } from './client.ts';
import type { Logger } from '../log.ts';

export interface TopicWatchOptions {
  admin: Admin;
  /** Whole-name pattern of the topics wanted. */
  pattern: RegExp;
  /** How often the cluster is listed, in ms. */
  intervalMs: number;
  /** Called (never concurrently) with every matching topic, sorted, whenever the set grows or shrinks. */
  onChange: (topics: string[], added: string[]) => Promise<void>;
  logger?: Logger;
}

/**
 * Lists a cluster's topics every `intervalMs` and reports when the set matching a pattern changes — how
 * the mirror, the archive and the filters pick up a night's topic seconds after IPAC creates it. A failed
 * listing (a broker restarting) is logged and tried again at the next tick.
 */
export class TopicWatch {
  readonly #o: TopicWatchOptions;
  #topics: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: TopicWatchOptions) {
    this.#o = options;
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  /** Looks once (errors thrown to the caller), then keeps looking every interval. */
  async start(): Promise<void> {
    await this.check();
    this.#timer = setInterval(() => {
      this.#chain = this.#chain
        .then(() => this.check())
        .catch((err: unknown) => this.#o.logger?.warn({ err }, 'listing topics failed; will retry'));
    }, this.#o.intervalMs);
  }

  /** Lists the topics now and calls onChange if the matching set differs from the last one. */
  async check(): Promise<void> {
    if (this.#stopped) return;
    const matching = (await this.#o.admin.listTopics()).filter((t) => this.#o.pattern.test(t)).sort();
    if (matching.join('\n') === this.#topics.join('\n')) return;
    const added = matching.filter((t) => !this.#topics.includes(t));
    await this.#o.onChange(matching, added);
    this.#topics = matching;
  }

  /** Stops looking and waits for a running check to finish; idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#chain.catch(() => undefined);
  }
}
