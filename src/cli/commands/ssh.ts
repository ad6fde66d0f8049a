import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table } from '../output.ts';

export function registerSshCommands(program: Command) {
  const ssh = program.command('ssh').description("grim's SSH key");
  ssh
    .command('rotate')
    .description(
      'put a new grim key on every node, check it logs in, remove the old one; nodes down now finish when they return (run again to see progress)',
    )
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('rotateSshKey', { body: {} });
      print(o, r, () =>
        [
          `${r.resumed ? 'rotation under way' : 'rotation started'}: job ${r.job.id} (${r.job.status})`,
          table(
            ['NODE', 'STATUS', 'NOTE'],
            r.job.tasks.map((t) => [t.node, t.status, t.error || '']),
          ),
          r.waiting.length
            ? `waiting for ${r.waiting.join(', ')}: they keep the old key and are finished when they are reachable`
            : r.job.status === 'succeeded'
              ? 'every node uses the new key; the old key is removed everywhere'
              : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
}
