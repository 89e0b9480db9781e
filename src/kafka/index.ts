export { createKafka, kafkaConfig } from './client.ts';
export { DEFAULT_TOPIC_CONFIGS, DEFAULT_TOPIC_READY_TIMEOUT_MS, deleteTopics, ensureTopic, waitForLeaders } from './admin.ts';
export type { EnsureTopicOptions } from './admin.ts';
export { DEFAULT_NIGHT_PARTITIONS, NIGHT_TOPIC_PATTERN, nightTopicName, parseNightTopic } from './topics.ts';
export type { NightTopic } from './topics.ts';
export { TopicWatch } from './topic-watch.ts';
export type { TopicWatchOptions } from './topic-watch.ts';
