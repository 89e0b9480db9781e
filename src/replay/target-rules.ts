import { NIGHT_TOPIC_PATTERN } from '../kafka/topics.ts';

/*
 * The rules of the replay target policy that need nothing but a topic name: which topics no replay may
 * write without an explicit override, and the patterns operators write allowed topics with. Kept apart
 * from the policy itself so that the config schema can validate with them (this file imports only the
 * topic naming).
 */

/** Stands for the replayed night's upstream topic (ztf_YYYYMMDD_programidN) in topic patterns and the template. */
export const NIGHT_TOPIC_PLACEHOLDER = '{nightTopic}';

/** The suffix of the default replay topic: `<night topic>_replay`. */
export const REPLAY_TOPIC_SUFFIX = '_replay';

/** A replay's topic when the request names none. */
export const DEFAULT_REPLAY_TOPIC_TEMPLATE = `${NIGHT_TOPIC_PLACEHOLDER}${REPLAY_TOPIC_SUFFIX}`;

/** Topics replays may write when the config says nothing: the default replay topic only. */
export const DEFAULT_REPLAY_ALLOWED_TOPICS: readonly string[] = [DEFAULT_REPLAY_TOPIC_TEMPLATE];

/** A topic pattern: topic characters, `*` for any run of them, `{nightTopic}`. */
export const TOPIC_PATTERN_SYNTAX = /^(?:[A-Za-z0-9._*-]|\{nightTopic\}){1,249}$/;

/** The rule names a refusal reports (stable: clients and logs may match them). */
export type TargetRule = 'internal-topic' | 'upstream-nightly-topic' | 'filter-output-topic' | 'not-allowed-topic';

export interface BrokenRule {
  rule: TargetRule;
  /** Why, in words: "it is an internal Kafka topic (…)". */
  reason: string;
}

// A nightly topic name followed by anything: the filters' outputs (`<topic>_<filter>`, or any
// --output-suffix). NIGHT_TOPIC_PATTERN is anchored at both ends; its tail anchor is dropped here.
const DERIVED_TOPIC = new RegExp(`${NIGHT_TOPIC_PATTERN.source.replace(/\$$/, '')}(.+)$`);

/**
 * The rule a topic breaks whoever asks, or undefined. These are the streams others read or the state
 * others keep: the upstream nightly topics (which the mirror writes on the UW cluster and the archive,
 * the filters and every broker consume), the filters' output topics, and Kafka's internal topics (the
 * mirror's, archive's, filters' and replays' committed positions and transaction state).
 */
export function protectedTopicRule(topic: string): BrokenRule | undefined {
  if (topic.startsWith('__')) {
    return { rule: 'internal-topic', reason: "it is an internal Kafka topic (__*: consumer offsets and transaction state, where the mirror, archive, filters and replays keep their positions)" };
  }
  if (NIGHT_TOPIC_PATTERN.test(topic)) {
    return { rule: 'upstream-nightly-topic', reason: 'it is an upstream nightly topic (ztf_YYYYMMDD_programidN): the live stream the mirror writes and the archive, the filters and every broker read' };
  }
  const derived = DERIVED_TOPIC.exec(topic);
  if (derived && derived[3] !== REPLAY_TOPIC_SUFFIX) {
    return { rule: 'filter-output-topic', reason: 'it is a filter output topic (<nightly topic><suffix>, written by zads filter and read by brokers)' };
  }
  return undefined;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** A whole-name matcher for a topic pattern, with `{nightTopic}` standing for `nightTopic`. */
export function topicPatternRegExp(pattern: string, nightTopic: string): RegExp {
  const parts = pattern.split(NIGHT_TOPIC_PLACEHOLDER).map((part) => part.split('*').map(escape).join('[A-Za-z0-9._-]*'));
  return new RegExp(`^${parts.join(escape(nightTopic))}$`);
}

/** Whether a topic matches one of the patterns, for a replay of the night whose topic is `nightTopic`. */
export function topicAllowed(topic: string, patterns: readonly string[], nightTopic: string): boolean {
  return patterns.some((p) => topicPatternRegExp(p, nightTopic).test(topic));
}

/** The topic a template names for a night's topic. */
export function topicFromTemplate(template: string, nightTopic: string): string {
  return template.replaceAll(NIGHT_TOPIC_PLACEHOLDER, nightTopic);
}
