import { readFileSync, writeFileSync } from 'node:fs';
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
    .command('anchor')
    .description(
      'export the chain head (seq and hash); keep it elsewhere, then `audit verify --anchor` detects a truncated tail',
    )
    .option('--out <file>', 'write the anchor to this file (default: stdout)')
    .action(async (o) => {
      const r = await apiClient().call('listAudit', { query: { limit: 1 } });
      const head = r.entries[0];
      const anchor = {
        seq: head?.seq ?? 0,
        hash: head?.hash ?? '',
        ts: head?.ts ?? 0,
        exportedAt: Date.now(),
      };
      const text = JSON.stringify(anchor) + '\n';
      if (o.out) writeFileSync(o.out, text, { mode: 0o600 });
      else process.stdout.write(text);
    });
  audit
    .command('verify')
    .description('check the hash chain; exits 2 and names the first broken entry when it was altered')
    .option(
      '--anchor <file>',
      'an anchor from `grim audit anchor`: the chain must still contain that entry unchanged',
    )
    .option('--json', 'JSON output')
    .action(async (o) => {
      const client = apiClient();
      const r = await client.call('verifyAudit');
      let anchorProblem: string | null = null;
      if (o.anchor) {
        const a = JSON.parse(readFileSync(o.anchor, 'utf8')) as { seq: number; hash: string };
        if (a.seq > 0) {
          const at = (await client.call('listAudit', { query: { beforeSeq: a.seq + 1, limit: 1 } }))
            .entries[0];
          if (!at || at.seq !== a.seq)
            anchorProblem = `entry ${a.seq} of the anchor is gone: the log was truncated (it now ends at ${at?.seq ?? 0})`;
          else if (at.hash !== a.hash)
            anchorProblem = `entry ${a.seq} differs from the anchor: the chain was rewritten`;
        }
      }
      const out = {
        ...r,
        ...(o.anchor ? { anchor: anchorProblem ? { ok: false, problem: anchorProblem } : { ok: true } } : {}),
      };
      print(o, out, () =>
        [
          r.ok
            ? `audit chain intact: ${r.checked} entries verified`
            : `audit chain BROKEN at entry ${r.firstBroken?.seq}: ${r.firstBroken?.reason} (${r.checked} entries before it are intact)`,
          ...(o.anchor
            ? [anchorProblem ? `anchor check FAILED: ${anchorProblem}` : 'anchor entry present and unchanged']
            : []),
        ].join('\n'),
      );
      if (!r.ok || anchorProblem) setExit(2);
    });
}
