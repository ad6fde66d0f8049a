// The lab of simulated nodes, seen from a real SSH client: separate hosts, own filesystems,
// reboot, failure controls, and a complete teardown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  labDown,
  labStatus,
  linkDown,
  linkUp,
  loadState,
  regenerateHostKey,
  startNode,
  stopNode,
} from '../../src/lab/lab.ts';
import { bootCount } from '../../src/lab/processes.ts';
import type { LabNode, LabState } from '../../src/lab/state.ts';
import { waitFor } from '../../src/lab/wait.ts';
import { withLab } from '../helpers/lab.ts';

interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** known_hosts built from ssh-keyscan, accepted only when the key matches the recorded fingerprint. */
function buildKnownHosts(state: LabState, file: string): void {
  const lines: string[] = [];
  for (const node of state.nodes) {
    const scan = spawnSync('ssh-keyscan', ['-T', '5', '-t', 'ed25519', node.address], { encoding: 'utf8' });
    const line = scan.stdout.split('\n').find((l) => l.startsWith(node.address));
    assert.ok(line, `ssh-keyscan got no key from ${node.name}: ${scan.stderr}`);
    const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: line, encoding: 'utf8' });
    assert.equal(
      fp.stdout.split(' ')[1],
      node.hostKeyFingerprint,
      `${node.name} serves the recorded host key`,
    );
    lines.push(line);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

function ssh(state: LabState, node: LabNode, knownHosts: string, command: string, timeout = 5): SshResult {
  const r = spawnSync(
    'ssh',
    [
      '-i',
      state.clientKeyPath,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${timeout}`,
      '-o',
      'LogLevel=ERROR',
      `${node.user}@${node.address}`,
      command,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { code: r.status ?? 255, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

function sshOk(state: LabState, node: LabNode, knownHosts: string, command: string): string {
  const r = ssh(state, node, knownHosts, command);
  assert.equal(r.code, 0, `ssh ${node.name} '${command}' failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs `reboot`-like `command` on the node and waits until it booted again and SSH works. */
async function rebootVia(state: LabState, node: LabNode, knownHosts: string, command: string): Promise<void> {
  const before = await bootCount(node);
  ssh(state, node, knownHosts, command); // the connection drops with the node: any exit code
  await waitFor(`${node.name} to boot again`, async () => (await bootCount(node)) > before, 30_000);
  await waitFor(`ssh to ${node.name}`, async () => ssh(state, node, knownHosts, 'true').code === 0, 30_000);
}

/** Alive and not a zombie (a zombie only waits for its parent, possibly this process, to reap it). */
function pidAlive(pid: number): boolean {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z';
}

function ipOut(args: string[]): string {
  return spawnSync('ip', args, { encoding: 'utf8' }).stdout;
}

test('a Debian lab: separate SSH hosts, reboot, failure controls, complete teardown', async (t) => {
  const lab = await withLab(t, { nodes: 3, os: 'debian' });
  if (!lab) return;
  const tmp = mkdtempSync(path.join(tmpdir(), 'grim-lab-test-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const knownHosts = path.join(tmp, 'known_hosts');
  buildKnownHosts(lab, knownHosts);
  const [n1, n2, n3] = lab.nodes;

  await t.test('each node is its own host with its own name and address', () => {
    const names = lab.nodes.map((n) => sshOk(lab, n, knownHosts, 'hostname'));
    assert.deepEqual(names, ['n1', 'n2', 'n3']);
    assert.match(sshOk(lab, n2, knownHosts, 'ip -4 -o addr show dev eth0'), new RegExp(`${n2.address}/24`));
    assert.match(sshOk(lab, n1, knownHosts, 'cat /etc/os-release'), /^ID=debian$/m);
  });

  await t.test("apt works against the node's own package state", () => {
    const out = sshOk(lab, n1, knownHosts, 'apt-get -s upgrade && apt-get upgrade -y');
    assert.match(out, /\d+ upgraded, \d+ newly installed/);
  });

  await t.test('writes on a node stay on that node', () => {
    const marker = `grim-lab-marker-${process.pid}-${Date.now()}`;
    sshOk(lab, n1, knownHosts, `echo x > /root/${marker} && touch /usr/local/bin/${marker} /etc/${marker}`);
    for (const p of [`/root/${marker}`, `/usr/local/bin/${marker}`, `/etc/${marker}`]) {
      assert.equal(existsSync(p), false, `${p} must not appear on the host`);
      assert.equal(ssh(lab, n2, knownHosts, `test -e ${p}`).code, 1, `${p} must not appear on n2`);
      assert.equal(ssh(lab, n1, knownHosts, `test -e ${p}`).code, 0, `${p} stays on n1`);
    }
  });

  await t.test('reboot and reboot -f bring the node back with the same host key', async () => {
    for (const command of ['reboot', 'reboot -f']) {
      sshOk(lab, n1, knownHosts, 'echo kept > /root/kept && echo gone > /run/volatile');
      const pidBefore = (await labStatus(lab.name)).nodes[0].initPid;
      await rebootVia(lab, n1, knownHosts, command);
      assert.equal(sshOk(lab, n1, knownHosts, 'cat /root/kept'), 'kept', `disk survives '${command}'`);
      assert.equal(
        ssh(lab, n1, knownHosts, 'test -e /run/volatile').code,
        1,
        `/run is fresh after '${command}'`,
      );
      assert.notEqual((await labStatus(lab.name)).nodes[0].initPid, pidBefore, 'a new init runs');
    }
  });

  await t.test('a stopped node refuses connections, a started one accepts them', async () => {
    await stopNode(lab, 2);
    const r = ssh(lab, n2, knownHosts, 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Connection refused/);
    assert.equal((await labStatus(lab.name)).nodes[1].running, false);
    await startNode(lab, 2);
    assert.equal(sshOk(lab, n2, knownHosts, 'hostname'), 'n2');
  });

  await t.test('a node whose link is down times out, and works again when it is up', async () => {
    await linkDown(lab, 3);
    const r = ssh(lab, n3, knownHosts, 'true', 2);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /timed out/);
    await linkUp(lab, 3);
    assert.equal(sshOk(lab, n3, knownHosts, 'hostname'), 'n3');
  });

  await t.test('a regenerated host key is served and recorded', async () => {
    const fp = await regenerateHostKey(lab, 1);
    assert.notEqual(fp, n1.hostKeyFingerprint);
    const r = ssh(lab, n1, knownHosts, 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    const state = await loadState(lab.name);
    assert.equal(state.nodes[0].hostKeyFingerprint, fp);
    buildKnownHosts(state, knownHosts);
    assert.equal(sshOk(state, state.nodes[0], knownHosts, 'hostname'), 'n1');
  });

  await t.test('down leaves nothing behind', async () => {
    const status = await labStatus(lab.name);
    const pids = status.nodes.flatMap((n) => [n.supervisorPid, n.initPid]).filter((p) => p !== undefined);
    assert.equal(pids.length, 6);
    await labDown(lab.name);
    assert.deepEqual(
      ipOut(['netns', 'list'])
        .split('\n')
        .filter((l) => l.startsWith(`grim-${lab.name}-`)),
      [],
    );
    assert.doesNotMatch(ipOut(['link', 'show']), new RegExp(`${lab.bridge}|gv-${lab.name}-`));
    assert.deepEqual(
      pids.filter((p) => pidAlive(p)),
      [],
    );
    assert.equal(existsSync(lab.stateDir), false);
  });
});

test('an Alpine lab node runs busybox and apk and reboots', async (t) => {
  const rootfs = process.env.GRIM_ALPINE_ROOTFS;
  if (!rootfs) {
    const reason = 'GRIM_ALPINE_ROOTFS is not set (path of alpine-minirootfs-*.tar.gz)';
    console.log(`# skip: ${reason}`);
    t.skip(reason);
    return;
  }
  const lab = await withLab(t, { nodes: 1, os: 'alpine', alpineRootfs: rootfs });
  if (!lab) return;
  const knownHosts = path.join(lab.stateDir, 'test_known_hosts');
  buildKnownHosts(lab, knownHosts);
  const [n1] = lab.nodes;
  const out = sshOk(lab, n1, knownHosts, 'cat /etc/alpine-release; readlink /bin/sh; apk --version; echo $0');
  const [release, sh, apk, shell] = out.split('\n');
  assert.equal(release, readAlpineRelease(rootfs));
  assert.equal(sh, '/bin/busybox');
  assert.match(apk, /^apk-tools /);
  assert.equal(shell, 'sh');
  assert.match(sshOk(lab, n1, knownHosts, 'apk info'), /^alpine-baselayout$/m);
  await rebootVia(lab, n1, knownHosts, 'reboot');
  assert.equal(sshOk(lab, n1, knownHosts, 'hostname'), 'n1');
});

function readAlpineRelease(tarball: string): string {
  const r = spawnSync('tar', ['-xzOf', tarball, './etc/alpine-release'], { encoding: 'utf8' });
  return r.stdout.trim();
}
