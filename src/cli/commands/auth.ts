import type { Command } from 'commander';
import { hostname } from 'node:os';
import { createClient } from '../../api/client.ts';
import { clearCliConfig, loadCliConfig, saveCliConfig } from '../config.ts';
import { apiClient, readSecret } from '../context.ts';
import { nodeFetch } from '../transport.ts';
import { print } from '../output.ts';

export function registerAuthCommands(program: Command) {
  program
    .command('login')
    .description('log in and save an API token for this CLI')
    .option('--server <url>', 'grim server URL', loadCliConfig().server)
    .option('-u, --username <name>', 'username', 'admin')
    .option('--password-stdin', 'read the password from standard input')
    .option('--ca-file <path>', "pin grim's CA certificate (for its generated local CA)")
    .action(async (o) => {
      const server = String(o.server).replace(/\/$/, '');
      const fetch = nodeFetch(o.caFile);
      const password = await readSecret(`password for ${o.username}: `, !!o.passwordStdin);
      const session = createClient({ baseUrl: server, fetch, cookieJar: true });
      const login = await session.call('login', { body: { username: o.username, password } });
      // The CLI keeps a revocable API token, not the browser-style session it used to mint it.
      const made = await session.call('createToken', {
        body: { name: `cli@${hostname()}`, role: login.user.role, expiresInDays: 90 },
      });
      await session.call('logout');
      saveCliConfig({ server, token: made.secret, caFile: o.caFile });
      process.stdout.write(`logged in to ${server} as ${login.user.username} (${login.user.role})\n`);
    });

  program
    .command('logout')
    .description('revoke this CLI token and forget it')
    .action(async () => {
      const c = apiClient();
      const me = await c.call('whoami');
      if (me.user.tokenId) await c.call('revokeToken', { params: { id: me.user.tokenId } });
      clearCliConfig();
      process.stdout.write('logged out\n');
    });

  program
    .command('whoami')
    .description('show who you are logged in as')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const me = await apiClient().call('whoami');
      print(
        o,
        me,
        () => `${me.user.username} (${me.user.role}) via ${me.user.via} on ${loadCliConfig().server}`,
      );
    });
}
