import type { Command } from 'commander';
import { openArchive, verifyArchive } from '../archive/index.ts';
import type { Difference } from '../archive/index.ts';
import { commandConfig } from './cluster-option.ts';
import { existingDataDir, programOption } from './archive-close.ts';

interface VerifyCliOptions {
  data?: string;
  night?: string;
  program?: string;
  json?: boolean;
  config?: string;
}

function line(d: Difference): string {
  return `${d.night ?? '-'} programid ${d.programid} ${d.kind}: ${d.detail}`;
}

export function registerArchiveVerify(archive: Command): void {
  archive
    .command('verify')
    .description('check MD5SUMS, tarballs, catalogue and segments against each other and list every difference (exit 1 if any)')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--night <YYYYMMDD>', 'check only this night')
    .option('--program <N>', 'check only this programid (1 public, 2 partnership)')
    .option('--json', 'print {nights, differences} as JSON on stdout')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (opts: VerifyCliOptions) => {
      const programid = opts.program === undefined ? undefined : programOption(opts.program);
      const config = commandConfig(opts.config);
      const archived = await openArchive({ dataDir: existingDataDir(opts.data, config), s3: config.s3, writer: false });
      let differences: Difference[];
      let nights = 0;
      try {
        differences = await verifyArchive(archived, {
          night: opts.night,
          programid,
          onNight: (n) => {
            nights = n.count;
            if (process.stderr.isTTY) process.stderr.write(`\rverify: night ${n.night}/${n.programid} (${n.index + 1} of ${n.count})\x1b[K`);
          },
        });
      } finally {
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        await archived.close();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ nights, differences }, null, 2)}\n`);
      } else {
        for (const d of differences) process.stdout.write(`${line(d)}\n`);
        process.stdout.write(differences.length === 0 ? `${nights} night(s) checked: no differences\n` : `${nights} night(s) checked: ${differences.length} difference(s)\n`);
      }
      process.exitCode = differences.length > 0 ? 1 : 0;
    });
}
