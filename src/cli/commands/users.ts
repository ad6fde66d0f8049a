import type { Command } from 'commander';
import { apiClient, readSecret } from '../context.ts';
import { print, table, when } from '../output.ts';

async function userId(name: string) {
  const users = (await apiClient().call('listUsers')).users;
  const u = users.find((x) => x.username === name || x.id === name);
  if (!u) throw new Error(`no user ${name}`);
  return u.id;
}

export function registerUserCommands(program: Command) {
  const user = program.command('user').description('users (admin)');
  user
    .command('list')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('listUsers');
      print(o, r, () =>
        table(
          ['USERNAME', 'ROLE', 'DISABLED', 'CREATED', 'ID'],
          r.users.map((u) => [u.username, u.role, u.disabled ? 'yes' : 'no', when(u.createdAt), u.id]),
        ),
      );
    });
  user
    .command('create <username>')
    .alias('add')
    .option('--role <role>', 'viewer, operator or admin', 'viewer')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username, o) => {
      const password = await readSecret(`password for ${username}: `, !!o.passwordStdin);
      const r = await apiClient().call('createUser', { body: { username, password, role: o.role } });
      process.stdout.write(`created ${r.user.username} (${r.user.role})\n`);
    });
  user.command('set-role <username> <role>').action(async (username, role) => {
    await apiClient().call('updateUser', { params: { id: await userId(username) }, body: { role } });
    process.stdout.write(`${username} is now ${role}\n`);
  });
  user
    .command('passwd <username>')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username, o) => {
      const password = await readSecret(`new password for ${username}: `, !!o.passwordStdin);
      await apiClient().call('updateUser', { params: { id: await userId(username) }, body: { password } });
      process.stdout.write(`password changed for ${username}\n`);
    });
  for (const [cmd, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const)
    user.command(`${cmd} <username>`).action(async (username) => {
      await apiClient().call('updateUser', { params: { id: await userId(username) }, body: { disabled } });
      process.stdout.write(`${username} ${cmd}d\n`);
    });
  user.command('delete <username>').action(async (username) => {
    await apiClient().call('deleteUser', { params: { id: await userId(username) } });
    process.stdout.write(`deleted ${username}\n`);
  });
}
