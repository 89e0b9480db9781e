/**
 * Every stage, in the order they run. To add one: a file in bench/stages/ exporting a `Stage`, and one
 * line here — after the stages it names in `dependsOn`.
 */
import { checkRegistry } from './harness.ts';
import type { Stage } from './harness.ts';
import { apiStage } from './stages/api.ts';
import { archiveStage } from './stages/archive.ts';
import { avscAlone } from './stages/avsc-alone.ts';
import { closeStage } from './stages/close.ts';
import { codecDecode } from './stages/codec-decode.ts';
import { disk } from './stages/disk.ts';
import { kafkaConsumerPerf } from './stages/kafka-consumer-perf.ts';
import { kafkaProducerPerf } from './stages/kafka-producer-perf.ts';
import { loadStage } from './stages/load.ts';
import { loopback } from './stages/loopback.ts';
import { mirrorMaker2 } from './stages/mirrormaker2.ts';
import { mirrorStage } from './stages/mirror.ts';
import { produceStage } from './stages/produce.ts';
import { latencyStage } from './stages/latency.ts';
import { filterStage } from './stages/filter.ts';
import { replayStage } from './stages/replay.ts';

export const STAGES: readonly Stage[] = [
  // baselines: what this machine does without our code
  disk,
  loopback,
  kafkaProducerPerf,
  kafkaConsumerPerf,
  mirrorMaker2,
  avscAlone,
  // our code, each against its baseline
  codecDecode,
  produceStage,
  mirrorStage,
  latencyStage,
  filterStage,
  archiveStage,
  closeStage,
  replayStage,
  apiStage,
  // everything at once: ingest at ZTF's peak rate while the API answers queries
  loadStage,
];

checkRegistry(STAGES);
