import { randomUUID } from 'node:crypto';
import type { Archive } from '../archive/index.ts';
import type { ClusterConfig } from '../config/index.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import { Replay, ReplayTargetPolicy } from '../replay/index.ts';
import type { ReplayReport, ReplaySelection } from '../replay/index.ts';
import { ApiError } from './errors.ts';
import type { ReplayRequest } from './replay-request.ts';

/** How long close() waits for cancelled replays to finish their transaction in flight, ms. */
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export interface ReplayRegistryOptions {
  archive: Archive;
  /** The cluster every replay writes to (config clusters.uw). */
  target: ClusterConfig;
  /** Where replays may write (config replay.*, api.tokens[].replayTopics). Default: the default policy, `<night topic>_replay` only. */
  policy?: ReplayTargetPolicy;
  /** Replays running (or paused) at once; more are refused with 429. Default 4. */
  maxActive?: number;
  metrics?: Registry;
  logger?: Logger;
}

/** A replay as the API shows it: its report, what it was asked to send, who started it and when. */
export interface ReplayView extends ReplayReport {
  selection: ReplaySelection;
  startedBy: string | null;
  startedAt: string;
}

interface Entry {
  replay: Replay;
  selection: ReplaySelection;
  startedBy: string | null;
  startedAt: Date;
  run: Promise<unknown>;
}

/**
 * The replays started through the API in this process. Each runs in the background; its report is read
 * while it runs and kept after it ends (until the id is started again, which resumes it from its
 * checkpoint in Kafka).
 */
export class ReplayRegistry {
  readonly #o: ReplayRegistryOptions;
  readonly #entries = new Map<string, Entry>();
  #closing: Promise<void> | undefined;
  /** Where replays may write. */
  readonly policy: ReplayTargetPolicy;

  constructor(options: ReplayRegistryOptions) {
    this.#o = { ...options };
    this.policy = options.policy ?? new ReplayTargetPolicy({ logger: options.logger });
  }

  #active(): Entry[] {
    return [...this.#entries.values()].filter((e) => ['running', 'paused'].includes(e.replay.status().state));
  }

  /** Starts (or resumes, by id) a replay of an archived night. */
  start(request: ReplayRequest, startedBy: string | undefined, caller: { admin: boolean } = { admin: false }): ReplayView {
    if (this.#closing) throw new ApiError('SERVICE_UNAVAILABLE', 'the server is shutting down');
    const { night, programid } = request;
    if (!this.#o.archive.catalogue.night(night, programid)) {
      throw new ApiError('NOT_FOUND', `night ${night} programid ${programid} is not in the archive`);
    }
    // The target policy decides before any Kafka client exists; a refusal is REPLAY_TOPIC_REFUSED (403).
    if (request.allowAnyTopic && !caller.admin) throw new ApiError('FORBIDDEN', `"allowAnyTopic" needs a token with the "admin" role, which token "${startedBy ?? ''}" does not have`);
    const target = this.policy.resolve({ night, programid, topic: request.topic, caller: `token "${startedBy ?? ''}"`, token: startedBy, override: request.allowAnyTopic === true });
    const id = request.id ?? randomUUID();
    const existing = this.#entries.get(id);
    if (existing && ['running', 'paused'].includes(existing.replay.status().state)) {
      throw new ApiError('CONFLICT', `replay ${id} is already ${existing.replay.status().state}`);
    }
    const maxActive = this.#o.maxActive ?? 4;
    if (this.#active().length >= maxActive) {
      throw new ApiError('TOO_MANY_REPLAYS', `${maxActive} replays are already running; cancel one or wait for one to end`);
    }
    const selection: ReplaySelection = { night, programid };
    if (request.from !== undefined) selection.fromJd = request.from;
    if (request.to !== undefined) selection.toJd = request.to;
    if (request.objectIds) selection.objectIds = [...request.objectIds];
    const replay = new Replay({
      id,
      archive: this.#o.archive,
      selection,
      target: this.#o.target,
      topic: target.topic,
      allowProtectedTopic: target.overridden,
      partitions: request.partitions,
      pacing: request.pacing,
      maxAlerts: request.maxAlerts,
      logger: this.#o.logger,
      metrics: this.#o.metrics,
    });
    const log = this.#o.logger?.child({ component: 'api', replay: id });
    // The report keeps the failure; the rejection is only logged, never left unhandled.
    const run = replay.run().then(
      (report) => log?.info({ state: report.state, sent: report.sent }, 'replay ended'),
      (err: Error) => log?.error({ err: err.message }, 'replay failed'),
    );
    const entry: Entry = { replay, selection, startedBy: startedBy ?? null, startedAt: new Date(), run };
    this.#entries.set(id, entry);
    log?.info({ selection, topic: replay.topic, startedBy }, 'replay started');
    return view(entry);
  }

  get(id: string): ReplayView {
    return view(this.#entry(id));
  }

  list(): ReplayView[] {
    return [...this.#entries.values()].map(view);
  }

  pause(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.pause();
    return view(e);
  }

  resume(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.resume();
    return view(e);
  }

  /** Asks the replay to stop after its transaction in flight; its state turns "cancelled" once it has. */
  cancel(id: string): ReplayView {
    const e = this.#entry(id);
    e.replay.cancel();
    return view(e);
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new ApiError('NOT_FOUND', `no replay ${id} in this server (replays are kept while it runs)`);
    return e;
  }

  /** Cancels every replay and waits (up to `timeoutMs`) for them to stop; idempotent. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing ??= (async () => {
      const entries = [...this.#entries.values()];
      for (const e of entries) e.replay.cancel();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all(entries.map((e) => e.run)), timeout]);
      clearTimeout(timer);
    })();
    return this.#closing;
  }
}

function view(e: Entry): ReplayView {
  return { ...e.replay.status(), selection: e.selection, startedBy: e.startedBy, startedAt: e.startedAt.toISOString() };
}
