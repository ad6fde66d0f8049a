import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { lockDataDir } from '../../store/sqlite-lock.ts';
import { localConfig } from './backup.ts';
import { print } from '../output.ts';

export function registerMasterKeyCommands(program: Command) {
  const mk = program.command('master-key').description('the key that seals secrets at rest (control node)');
  mk.command('rotate')
    .description(
      'a new master key; every secret re-sealed under it in one transaction (grim servers stopped)',
    )
    .option('--data-dir <dir>', 'data directory (env GRIM_DATA_DIR)')
    .option('--database-url <url>', 'postgres://... (env GRIM_DATABASE_URL)')
    .option('--json', 'JSON output')
    .action(async (o) => {
      // the stores and the re-sealing load only here: other commands stay light
      const [{ openDb }, { rotateMasterKey }] = await Promise.all([
        import('../../server/start.ts'),
        import('../../services/master-key.ts'),
      ]);
      const config = localConfig(o);
      const lock = config.databaseUrl
        ? null
        : lockDataDir(config.dataDir, `grim master-key rotate, pid ${process.pid}`);
      const db = openDb(config);
      try {
        const r = await rotateMasterKey({ db, dataDir: config.dataDir, actor: `cli:${userInfo().username}` });
        const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
        print(o, r, () =>
          [
            r.finished
              ? `finished an interrupted rotation: master key ${r.from} -> ${r.to}`
              : `master key rotated ${r.from} -> ${r.to}: ${total} sealed value(s) re-sealed`,
            ...Object.entries(r.counts)
              .filter(([, n]) => n)
              .map(([k, n]) => `  ${k}: ${n}`),
            `the old key is kept at ${r.retiredKey} (backups made before now need it); start grim again`,
          ].join('\n'),
        );
      } finally {
        await db.close();
        lock?.release();
      }
    });
}
