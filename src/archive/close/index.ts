export { DEFAULT_CLOSE_ATTEMPTS, DEFAULT_READ_AHEAD_ALERTS, checkNight, closeNight } from './close-night.ts';
export type { CloseNightOptions, CloseProgress, CloseReport } from './close-night.ts';
export { candidOfMember, memberDate, memberName } from './member.ts';
export { DEFAULT_GZIP_LEVEL, writeTarball } from './write-tarball.ts';
export type { TarMemberInput, WriteTarballOptions, WrittenTarball } from './write-tarball.ts';
export { exclusive } from './lock.ts';
export { checkWrittenTail } from './written-tail.ts';
