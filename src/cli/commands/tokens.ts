import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';

export function registerTokenCommands(program: Command) {
  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create an API token (the secret is shown once)')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--role <role>', 'viewer, operator or admin', 'viewer')
    .option('--expires-days <n>', 'expire after n days', (v) => Number(v))
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('createToken', {
        body: { name: o.name, role: o.role, ...(o.expiresDays ? { expiresInDays: o.expiresDays } : {}) },
      });
      print(
        o,
        r,
        () => `${r.secret}\n(token ${r.token.id}, role ${r.token.role}; this secret is not shown again)`,
      );
    });
  token
    .command('list')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('listTokens');
      print(o, r, () =>
        table(
          ['ID', 'NAME', 'ROLE', 'USER', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
          r.tokens.map((t) => [
            t.id,
            t.name,
            t.role,
            t.username,
            t.prefix,
            when(t.createdAt),
            when(t.lastUsedAt),
            when(t.revokedAt),
          ]),
        ),
      );
    });
  token
    .command('delete <id>')
    .alias('revoke')
    .action(async (id) => {
      await apiClient().call('revokeToken', { params: { id } });
      process.stdout.write(`revoked ${id}\n`);
    });
}
