import type { Command } from 'commander';
import { apiClient } from '../context.ts';
import { print, table, when } from '../output.ts';

export function registerAuditCommands(program: Command, setExit: (code: number) => void) {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('list')
    .option('--actor <name>')
    .option('--action <action>')
    .option('--target <target>')
    .option('--outcome <outcome>', 'success, failure or denied')
    .option('--since <iso>', 'ISO date or time', (v) => Date.parse(v))
    .option('--limit <n>', 'at most n entries', (v) => Number(v), 50)
    .option('--json', 'JSON output')
    .action(async (o) => {
      const query = {
        actor: o.actor,
        action: o.action,
        target: o.target,
        outcome: o.outcome,
        since: o.since,
        limit: o.limit,
      };
      const r = await apiClient().call('listAudit', { query });
      print(o, r, () =>
        table(
          ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'IP'],
          r.entries.map((e) => [e.seq, when(e.ts), e.actor, e.action, e.target, e.outcome, e.ip]),
        ),
      );
    });
  audit
    .command('verify')
    .description('check the hash chain; exits 2 and names the first broken entry when it was altered')
    .option('--json', 'JSON output')
    .action(async (o) => {
      const r = await apiClient().call('verifyAudit');
      print(o, r, () =>
        r.ok
          ? `audit chain intact: ${r.checked} entries verified`
          : `audit chain BROKEN at entry ${r.firstBroken?.seq}: ${r.firstBroken?.reason} (${r.checked} entries before it are intact)`,
      );
      if (!r.ok) setExit(2);
    });
}
