import type { ClusterConfig, ZadsConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import { nightTopicName } from '../kafka/topics.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_REPLAY_ALLOWED_TOPICS, DEFAULT_REPLAY_TOPIC_TEMPLATE, protectedTopicRule, topicAllowed, topicFromTemplate } from './target-rules.ts';
import type { BrokenRule, TargetRule } from './target-rules.ts';

/** What overrides the policy, as refusals name it (the API and the CLI say the same words). */
export const OVERRIDE_HINT = 'only an admin token with "allowAnyTopic": true, or zads replay --allow-any-topic, may write it';

/** Options of a {@link ReplayTargetPolicy}; the config's `replay` section and the tokens' `replayTopics`. */
export interface ReplayTargetPolicyOptions {
  /** A replay's topic when the request names none; `{nightTopic}` stands for the night's topic. Default "{nightTopic}_replay". */
  topicTemplate?: string;
  /** Patterns of the topics replays may write ("*": any run of topic characters; `{nightTopic}`). Default ["{nightTopic}_replay"]. */
  allowedTopics?: readonly string[];
  /** Per token name: the patterns that replace `allowedTopics` for that token. */
  tokenTopics?: Readonly<Record<string, readonly string[]>>;
  /** Where an override is logged (warn). */
  logger?: Logger;
}

/** One replay target to decide on. */
export interface TargetRequest {
  night: string;
  programid: number;
  /** The topic asked for; absent: the template's. */
  topic?: string;
  /** Who asks, for the log and the message: a token name, or the command ("zads replay"). */
  caller: string;
  /** The token whose replayTopics apply; absent: allowedTopics. */
  token?: string;
  /** An explicit override (an admin token's "allowAnyTopic", or --allow-any-topic), already authorised by the caller. */
  override?: boolean;
}

/** What the policy decided: the topic, and whether the engine may write it though it is protected. */
export interface TargetDecision {
  topic: string;
  /** The topic breaks a rule and the override allowed it: pass to the engine as `allowProtectedTopic`. */
  overridden: boolean;
}

/** The policy as a caller may see it (GET /v1/replay-policy, the web page). */
export interface TargetPolicyView {
  /** The default topic, `{nightTopic}` standing for the night's topic. */
  topicTemplate: string;
  /** Patterns of the topics this caller's replays may write. */
  allowedTopics: string[];
  /** Whether the patterns are the token's own (api.tokens[].replayTopics) or the config's (replay.allowedTopics). */
  source: 'token' | 'config';
  /** What is refused whatever the patterns say. */
  refused: { rule: TargetRule; topics: string }[];
  /** How the refusal can be overridden, and by whom. */
  override: string;
}

const REFUSED: TargetPolicyView['refused'] = [
  { rule: 'upstream-nightly-topic', topics: 'ztf_YYYYMMDD_programidN' },
  { rule: 'filter-output-topic', topics: 'ztf_YYYYMMDD_programidN<suffix>, other than the _replay suffix' },
  { rule: 'internal-topic', topics: '__*' },
];

/**
 * Decides where a replay may write, before any Kafka client exists. A topic is refused when it breaks a
 * protected rule (upstream nightly, filter output, internal: see protectedTopicRule) or matches none of
 * the caller's allowed patterns; an explicit override lets it through, and is logged as a warning
 * naming who used it. Refusals are REPLAY_TOPIC_REFUSED (HTTP 403, CLI exit 2), naming topic and rule.
 */
export class ReplayTargetPolicy {
  readonly #template: string;
  readonly #allowed: readonly string[];
  readonly #tokenTopics: Readonly<Record<string, readonly string[]>>;
  readonly #log: Logger | undefined;

  constructor(options: ReplayTargetPolicyOptions = {}) {
    this.#template = options.topicTemplate ?? DEFAULT_REPLAY_TOPIC_TEMPLATE;
    this.#allowed = [...(options.allowedTopics ?? DEFAULT_REPLAY_ALLOWED_TOPICS)];
    this.#tokenTopics = { ...options.tokenTopics };
    this.#log = options.logger?.child({ component: 'replay-target-policy' });
  }

  /** The policy of a loaded config: replay.topicTemplate, replay.allowedTopics, api.tokens[].replayTopics. */
  static fromConfig(config: Pick<ZadsConfig, 'replay' | 'api'>, logger?: Logger): ReplayTargetPolicy {
    const tokenTopics = Object.fromEntries(config.api.tokens.filter((t) => t.replayTopics).map((t) => [t.name, t.replayTopics!]));
    return new ReplayTargetPolicy({ topicTemplate: config.replay.topicTemplate, allowedTopics: config.replay.allowedTopics, tokenTopics, logger });
  }

  /** The topic a replay of the night writes when it names none. */
  defaultTopic(night: string, programid: number): string {
    return topicFromTemplate(this.#template, nightTopicName(night, programid));
  }

  #patterns(token: string | undefined): { patterns: readonly string[]; source: 'token' | 'config' } {
    const own = token === undefined ? undefined : this.#tokenTopics[token];
    return own ? { patterns: own, source: 'token' } : { patterns: this.#allowed, source: 'config' };
  }

  /** The rule the topic breaks for this caller, or undefined when it may write it without an override. */
  brokenRule(request: Omit<TargetRequest, 'override' | 'caller'> & { topic: string }): BrokenRule | undefined {
    const protectedRule = protectedTopicRule(request.topic);
    if (protectedRule) return protectedRule;
    const nightTopic = nightTopicName(request.night, request.programid);
    const { patterns, source } = this.#patterns(request.token);
    if (topicAllowed(request.topic, patterns, nightTopic)) return undefined;
    const whose = source === 'token' ? `token "${request.token}" may write (api.tokens[].replayTopics)` : 'replays may write (replay.allowedTopics)';
    return { rule: 'not-allowed-topic', reason: `it is not among the topics ${whose}: ${patterns.map((p) => topicFromTemplate(p, nightTopic)).join(', ')}` };
  }

  /** The topic the replay writes, or REPLAY_TOPIC_REFUSED; an override that lets a refused topic through is logged. */
  resolve(request: TargetRequest): TargetDecision {
    const topic = request.topic ?? this.defaultTopic(request.night, request.programid);
    const broken = this.brokenRule({ ...request, topic });
    if (!broken) return { topic, overridden: false };
    if (request.override) {
      this.#log?.warn({ caller: request.caller, topic, rule: broken.rule, night: request.night, programid: request.programid }, `replay target policy overridden by ${request.caller}: writing ${topic}, which breaks ${broken.rule}`);
      return { topic, overridden: true };
    }
    throw new ZadsError('REPLAY_TOPIC_REFUSED', `replay topic "${topic}" refused (rule ${broken.rule}): ${broken.reason}; ${OVERRIDE_HINT}`, {
      context: { topic, rule: broken.rule },
    });
  }

  /** What a caller's replays may write, for the API and the web page. */
  view(token: string | undefined, admin: boolean): TargetPolicyView {
    const { patterns, source } = this.#patterns(token);
    return {
      topicTemplate: this.#template,
      allowedTopics: [...patterns],
      source,
      refused: REFUSED.map((r) => ({ ...r })),
      override: admin ? 'this token may override the policy with "allowAnyTopic": true (logged)' : 'an admin token may override the policy with "allowAnyTopic": true (logged)',
    };
  }
}

/**
 * The engine's own check, at its start (defence in depth): a protected topic is written only when the
 * policy let it through by an override. Throws REPLAY_TOPIC_REFUSED.
 */
export function checkReplayTarget(topic: string, allowProtectedTopic: boolean | undefined): void {
  if (allowProtectedTopic === true) return;
  const broken = protectedTopicRule(topic);
  if (broken) throw new ZadsError('REPLAY_TOPIC_REFUSED', `replay topic "${topic}" refused (rule ${broken.rule}): ${broken.reason}; ${OVERRIDE_HINT}`, { context: { topic, rule: broken.rule } });
}

/**
 * The cluster a replay writes to: the UW cluster with the replays' own credentials (replay.sasl) when
 * the config gives them, so that the brokers' ACLs can hold replays to their topics.
 */
export function replayCluster(config: Pick<ZadsConfig, 'replay'>, cluster: ClusterConfig): ClusterConfig {
  return config.replay.sasl ? { ...cluster, sasl: { ...config.replay.sasl } } : cluster;
}
