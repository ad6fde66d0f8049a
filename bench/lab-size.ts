// How big a lab fits here: creation time and memory per node for N simulated nodes (default 50).
// Run as root: npx node bench/lab-size.ts [nodes] [debian|alpine]
import { readFile } from 'node:fs/promises';
import { labDown, labStatus, labUp } from '../src/lab/lab.ts';
import type { LabOs } from '../src/lab/state.ts';
import { run } from '../src/lab/run.ts';
import { uniqueLabName } from '../test/helpers/lab.ts';

const nodes = Number(process.argv[2] ?? 50);
const os = (process.argv[3] ?? 'debian') as LabOs;
const name = uniqueLabName();

async function memAvailableKiB(): Promise<number> {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
  return Number(m?.[1]);
}

/** Proportional set size of a process in KiB (shared pages split between their users). */
async function pssKiB(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

const memBefore = await memAvailableKiB();
const t0 = performance.now();
let down = false;
try {
  const state = await labUp({ name, nodes, os });
  const upMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const memAfter = await memAvailableKiB();
  const status = await labStatus(name);
  const pids = new Set<number>();
  for (const n of state.nodes) {
    const s = status.nodes.find((x) => x.name === n.name);
    if (s?.supervisorPid) pids.add(s.supervisorPid);
    const inNs = await run('ip', ['netns', 'pids', n.netns]);
    for (const p of inNs.stdout.split('\n').filter(Boolean)) pids.add(Number(p));
    const unshare = Number((await readFile(`${n.dir}/node.pid`, 'utf8').catch(() => '0')).trim());
    if (unshare) pids.add(unshare);
  }
  let pss = 0;
  for (const p of pids) pss += await pssKiB(p);
  const ready = status.nodes.filter((n) => n.sshOpen).length;
  const t1 = performance.now();
  await labDown(name);
  down = true;
  const downMs = performance.now() - t1;
  console.log(`lab of ${nodes} ${os} nodes (${ready} with sshd open)`);
  console.log(
    `  up (all sshd accepting): ${(upMs / 1000).toFixed(2)} s, ${(upMs / nodes).toFixed(0)} ms per node`,
  );
  console.log(`  down:                    ${(downMs / 1000).toFixed(2)} s`);
  console.log(`  processes:               ${pids.size} (${(pids.size / nodes).toFixed(1)} per node)`);
  console.log(`  PSS of lab processes:    ${mib(pss)} MiB total, ${mib(pss / nodes)} MiB per node`);
  console.log(
    `  MemAvailable drop:       ${mib(memBefore - memAfter)} MiB total, ${mib((memBefore - memAfter) / nodes)} MiB per node (includes kernel, page cache, noise)`,
  );
} finally {
  if (!down) await labDown(name).catch((e) => console.error(`lab down failed: ${e.message}`));
}
