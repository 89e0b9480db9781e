export { checkNight, closeNight } from './close-night.ts';
export type { CloseProgress, CloseReport } from './close-night.ts';
export { CLOSE_DEFAULTS } from './options.ts';
export type { CloseNightOptions } from './options.ts';
export { candidOfMember, memberDate, memberName } from './member.ts';
export { DEFAULT_GZIP_LEVEL, writeTarball } from './write-tarball.ts';
export type { TarMemberInput, WriteTarballOptions, WrittenTarball } from './write-tarball.ts';
export { exclusive } from './lock.ts';
export { checkWrittenTail } from './written-tail.ts';
