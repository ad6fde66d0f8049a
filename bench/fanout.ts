// Fan-out benchmark: `uptime` on 10 and on 50 lab nodes with grim (cold and warm), Fabric,
// parallel-ssh and ansible. Run as root: npm run bench:fanout   (FANOUT_REPS=5 by default)
// Brings up a lab of 50 Debian nodes and always tears it down. Prints a markdown table of median
// times with ratios against Fabric; a run counts only when every node answered correctly.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SshPool } from '../src/ssh/pool.ts';
import { checkLabPrerequisites } from '../src/lab/lab.ts';
import { accountCpu, describeCpu, sshdListeners, type CpuAccount } from './lib/fanout-cpu.ts';
import { grimCold, uptimeOn } from './lib/fanout-grim.ts';
import { targetsOf, withBenchLab } from './lib/fanout-lab.ts';
import {
  ansible,
  cleanupPeersSync,
  fabric,
  grimProcess,
  preparePeerFiles,
  pssh,
  stopAnsibleMastersSync,
} from './lib/fanout-peers.ts';
import {
  busyShare,
  loadAverage,
  machineFacts,
  markdownTable,
  medianIfAllOk,
  type Row,
  type Sample,
} from './lib/fanout-report.ts';

const SIZES = [10, 50];
const REPS = Number(process.env.FANOUT_REPS ?? 5);
const LAB_NODES = Math.max(...SIZES);
const P256 = { keyExchange: 'ecdh-p256' } as const;

const missing = await checkLabPrerequisites();
if (missing.length) {
  console.error(`fan-out benchmark needs the lab: ${missing.join('; ')}`);
  process.exit(1);
}

function row(tool: string, scope: Row['scope'], hostKeys: string, note?: string): Row {
  return { tool, scope, hostKeys, samples: new Map(SIZES.map((n) => [n, []])), ...(note ? { note } : {}) };
}
const rows = {
  grimCold: row('grim cold', 'in-process', 'pinned SHA256', 'new SshPool + connections each run'),
  grimColdP256: row(
    'grim cold',
    'in-process',
    'pinned SHA256',
    "keyExchange 'ecdh-p256': P-256 key exchange, cheaper for sshd",
  ),
  grimWarm: row('grim warm', 'in-process', 'pinned SHA256', 'pooled connections'),
  fabricIn: row('Fabric ThreadingGroup', 'in-process', 'known_hosts + RejectPolicy', 'connect + run'),
  grimProcess: row('grim cold', 'whole process', 'pinned SHA256', 'node start to exit'),
  fabricWhole: row('Fabric ThreadingGroup', 'whole process', 'known_hosts + RejectPolicy'),
  pssh: row('parallel-ssh -p N', 'whole process', 'known_hosts, StrictHostKeyChecking=yes'),
  ansibleWarm: row(
    'ansible -m command',
    'whole process',
    'known_hosts, StrictHostKeyChecking=yes',
    'ControlPersist reused',
  ),
  ansibleCold: row(
    'ansible -m command',
    'whole process',
    'known_hosts, StrictHostKeyChecking=yes',
    'first run: masters set up, 1 sample',
  ),
};

function record(r: Row, nodes: number, s: Sample): void {
  r.samples.get(nodes)?.push(s);
  if (s.ok !== nodes)
    console.error(`  ! ${r.tool} (${r.scope}) on ${nodes}: ${s.ok}/${nodes} ok: ${s.error ?? ''}`);
}

const loadAtStart = loadAverage();
const busyAtStart = await busyShare(1000);
const cpu: Array<{ tool: string; account: CpuAccount }> = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'grim-fanout-'));
console.error(`bringing up a lab of ${LAB_NODES} Debian nodes ...`);

await withBenchLab(
  LAB_NODES,
  () => cleanupPeersSync(tmp),
  async (lab) => {
    const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
    const targets = targetsOf(lab);
    const files = preparePeerFiles(lab, tmp, SIZES);
    const warmPool = new SshPool({ privateKey });
    try {
      for (const n of SIZES) {
        const on = targets.slice(0, n);
        console.error(`${n} nodes: warm-up ...`);
        // not counted: page cache, JIT, ansible's masters, grim's pooled connections
        stopAnsibleMastersSync(tmp);
        record(rows.ansibleCold, n, await ansible(files, n));
        for (const warmUp of [
          () => grimCold(privateKey, on),
          () => grimCold(privateKey, on, P256),
          () => uptimeOn(warmPool, on),
          () => fabric(files, n),
          () => pssh(files, n, 0),
          () => grimProcess(files, n),
        ]) {
          await warmUp();
        }
        const steps: Array<() => Promise<void>> = [
          async () => record(rows.grimCold, n, await grimCold(privateKey, on)),
          async () => record(rows.grimColdP256, n, await grimCold(privateKey, on, P256)),
          async () => record(rows.grimWarm, n, await uptimeOn(warmPool, on)),
          async () => {
            const f = await fabric(files, n);
            record(rows.fabricIn, n, f.inProcess);
            record(rows.fabricWhole, n, f.whole);
          },
          async () => record(rows.grimProcess, n, await grimProcess(files, n)),
          async () => record(rows.pssh, n, await pssh(files, n, 1)),
          async () => record(rows.ansibleWarm, n, await ansible(files, n)),
        ];
        for (let rep = 0; rep < REPS; rep++) {
          console.error(`${n} nodes: run ${rep + 1}/${REPS} (load ${loadAverage()})`);
          // rotate the order so that no tool always runs right after the same one
          for (let i = 0; i < steps.length; i++) await steps[(i + rep) % steps.length]();
        }
      }
    } finally {
      await warmPool.close();
    }
    console.error(`CPU accounting on ${LAB_NODES} nodes ...`);
    const listeners = await sshdListeners(lab);
    const grimAccount = await accountCpu(listeners, 3, () => grimCold(privateKey, targets));
    if (grimAccount) cpu.push({ tool: 'grim cold', account: grimAccount });
    const p256Account = await accountCpu(listeners, 3, () => grimCold(privateKey, targets, P256));
    if (p256Account) cpu.push({ tool: "grim cold, keyExchange 'ecdh-p256'", account: p256Account });
    const fabricAccount = await accountCpu(
      listeners,
      3,
      async () => (await fabric(files, LAB_NODES)).inProcess,
    );
    if (fabricAccount) cpu.push({ tool: 'Fabric ThreadingGroup', account: fabricAccount });
  },
);

const all = Object.values(rows);
const loadAtEnd = loadAverage();
console.log(`## Fan-out: \`uptime\` on ${SIZES.join(' and ')} lab nodes (${REPS} runs each, median)\n`);
for (const fact of machineFacts()) console.log(`- ${fact}`);
console.log(
  `- load average at start: ${loadAtStart} (CPU busy in the second before: ${(busyAtStart * 100).toFixed(0)}%); at end: ${loadAtEnd}`,
);
console.log(
  '- lab: network-namespace nodes on this machine: their sshd competes with the clients for the same cores\n',
);
console.log(markdownTable(all, SIZES));
console.log(
  '\nRatios compare with Fabric measured the same way (in-process rows with Fabric in-process, whole-process rows with Fabric whole-process).',
);
console.log(
  'Host keys: every tool verifies them (Fabric/paramiko would auto-accept by default; here it loads the known_hosts and rejects unknown keys).',
);

if (cpu.length) {
  console.log(`\n### Where the CPU goes: cold, ${LAB_NODES} nodes (median of 3 extra runs)\n`);
  console.log(
    '| client | wall | client CPU | sshd CPU on the nodes (same machine) | CPU floor: (client + sshd) / cores |',
  );
  console.log('|---|---|---|---|---|');
  for (const c of cpu) console.log(describeCpu(c.tool, LAB_NODES, c.account));
  console.log(
    '\nsshd CPU covers everything a connection costs on the node: its sshd processes (key exchange, auth, privilege separation), the login shell and `uptime`.',
  );
}

const big = LAB_NODES;
const cold = medianIfAllOk(rows.grimCold, big);
const warm = medianIfAllOk(rows.grimWarm, big);
const fabIn = medianIfAllOk(rows.fabricIn, big);
const fabWhole = medianIfAllOk(rows.fabricWhole, big);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(`\nGoals (${big} nodes):`);
if (cold !== undefined && fabIn !== undefined && fabWhole !== undefined) {
  console.log(
    `- cold at most half of Fabric: grim ${cold.toFixed(3)} s = ${(cold / fabWhole).toFixed(2)}× Fabric's whole process ` +
      `(${fabWhole.toFixed(3)} s), ${(cold / fabIn).toFixed(2)}× Fabric in-process (${fabIn.toFixed(3)} s): ` +
      `${verdict(cold <= fabWhole / 2)} vs whole process, ${verdict(cold <= fabIn / 2)} vs in-process`,
  );
}
const coldP256 = medianIfAllOk(rows.grimColdP256, big);
if (coldP256 !== undefined && fabIn !== undefined && fabWhole !== undefined) {
  console.log(
    `- the same with keyExchange 'ecdh-p256': ${coldP256.toFixed(3)} s = ${(coldP256 / fabWhole).toFixed(2)}× Fabric's whole process, ` +
      `${(coldP256 / fabIn).toFixed(2)}× Fabric in-process`,
  );
}
if (warm !== undefined) console.log(`- warm under 0.15 s: ${warm.toFixed(3)} s: ${verdict(warm < 0.15)}`);
const failed = all.filter((r) => SIZES.some((n) => (r.samples.get(n) ?? []).some((s) => s.ok !== n)));
if (failed.length) {
  console.log(`\nFAILED runs (not counted): ${failed.map((r) => `${r.tool} (${r.scope})`).join(', ')}`);
  process.exitCode = 1;
}
