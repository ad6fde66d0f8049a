// facts.sh's KVM verdict: /dev/kvm opening read-write is not enough (nested virtualization can open it while every
// guest hangs), so where QEMU is installed a 512-byte test guest must really run under KVM, bounded by `timeout`.
// QEMU is replaced here by stand-ins on PATH: the real QEMU with TCG instead of KVM (the guest itself is real and
// must exit through isa-debug-exit), a guest that never finishes, and a QEMU that cannot open KVM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { kvmText, nodeFacts } from '../../src/web/pages/nodes/node-facts.ts';

function kvmOpens(): string | undefined {
  try {
    if (!statSync('/dev/kvm').isCharacterDevice()) return '/dev/kvm is not a character device here';
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch {
    return 'no read-write /dev/kvm on this machine: facts.sh reports KVM unusable without booting a guest';
  }
}
const realQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).stdout.trim();

type Kvm = { kvmUsable: boolean; kvmCheck: string; kvmProblem: string; seconds: number };

function facts(bin: string, shell: string[], cache: string): Kvm {
  const started = performance.now();
  const r = spawnSync(shell[0], [...shell.slice(1), '-s'], {
    input: readFileSync(join(SCRIPTS_DIR, 'node', 'facts.sh')),
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, KVM_PROBE_CACHE: cache },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'facts.sh keeps QEMU quiet');
  const f = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Kvm;
  return { ...f, seconds: (performance.now() - started) / 1000 };
}

function standIn(dir: string, body: string): string {
  const bin = mkdtempSync(join(dir, 'bin-'));
  writeFileSync(join(bin, 'qemu-system-x86_64'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
  return bin;
}

test('facts.sh boots a test guest before it calls KVM usable, bounded and cached per boot', (t) => {
  const skip = kvmOpens();
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'grim-kvm-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The real guest, run by the real QEMU under TCG: it must exit through isa-debug-exit (status 33).
  const tcg = realQemu
    ? standIn(dir, `for a; do shift; [ "$a" = kvm ] && a=tcg; set -- "$@" "$a"; done\nexec ${realQemu} "$@"`)
    : undefined;
  for (const shell of [['dash'], ['busybox', 'sh']]) {
    if (!tcg) break;
    const ok = facts(tcg, shell, '');
    assert.deepEqual([ok.kvmUsable, ok.kvmCheck, ok.kvmProblem], [true, 'guest', ''], shell.join(' '));
  }

  // A guest that never finishes (what nested virtualization does here): refused within the bound, and remembered.
  const cache = join(dir, 'run/kvm-probe');
  const hang = facts(standIn(dir, 'exec sleep 60'), ['dash'], cache);
  assert.equal(hang.kvmUsable, false);
  assert.equal(hang.kvmCheck, 'guest');
  assert.match(hang.kvmProblem, /a test guest under KVM did not finish within 5 s/);
  assert.ok(hang.seconds < 9, `bounded: ${hang.seconds} s`);
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  assert.equal(readFileSync(cache, 'utf8'), `${bootId} 0 ${hang.kvmProblem}\n`);
  if (tcg) {
    const cached = facts(tcg, ['busybox', 'sh'], cache);
    assert.equal(cached.kvmUsable, false, 'the verdict of this boot is reused, no guest is booted again');
    assert.equal(cached.kvmProblem, hang.kvmProblem);
    writeFileSync(cache, `another-boot 0 stale\n`);
    assert.equal(facts(tcg, ['dash'], cache).kvmUsable, true, 'a verdict from another boot is not reused');
  }

  // QEMU that cannot use KVM: its own message is the reason.
  const broken = facts(
    standIn(
      dir,
      'echo "qemu-system-x86_64: -accel kvm: Could not access KVM kernel module: Permission denied" >&2\nexit 1',
    ),
    ['dash'],
    '',
  );
  assert.equal(broken.kvmUsable, false);
  assert.match(
    broken.kvmProblem,
    /QEMU could not run a test guest under KVM: .*Could not access KVM kernel module/,
  );
});

test('the node page says whether KVM really works, with the reason', () => {
  const problem =
    '/dev/kvm opens, but a test guest under KVM did not finish within 5 s (nested virtualization?)';
  const page = (facts: Record<string, unknown>) => kvmText(nodeFacts({ facts }));
  assert.equal(page({ kvm: true, kvmUsable: false, kvmProblem: problem }), `not usable: ${problem}`);
  assert.equal(page({ kvm: true, kvmUsable: true, kvmProblem: '' }), 'usable');
  assert.equal(page({ kvm: true }), 'available', 'older facts: the device only');
  assert.equal(page({}), '—');
});
