import type { Command } from 'commander';
import { registerArchiveRun } from './archive-run.ts';
import { registerArchiveClose } from './archive-close.ts';
import { registerArchiveVerify } from './archive-verify.ts';
import { registerArchiveImport } from './archive-import.ts';

/**
 * `zads archive <run|close|import|verify>`: each subcommand lives in its own file and registers itself
 * on the `archive` command here.
 */
export function registerArchive(program: Command): void {
  const archive = program.command('archive').description('the UW night archive: ingest, close nights into tarballs, import, verify');
  registerArchiveRun(archive);
  registerArchiveClose(archive);
  registerArchiveVerify(archive);
  registerArchiveImport(archive);
}
