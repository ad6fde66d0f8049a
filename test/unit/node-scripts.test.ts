import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SCRIPTS_DIR } from '../../src/scripts/loader.ts';
import { generateKeyPair } from '../../src/ssh/keys.ts';

function shellFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return shellFiles(path);
    return entry.name.endsWith('.sh') ? [path] : [];
  });
}

const shells: [string, string[]][] = [
  ['dash', []],
  ['busybox', ['sh']],
];

function runScript(shell: string, prefix: string[], name: string, env: Record<string, string> = {}): string {
  const result = spawnSync(shell, [...prefix, '-s'], {
    input: readFileSync(join(SCRIPTS_DIR, 'node', `${name}.sh`)),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `${shell} ${name}.sh failed: ${result.stderr}`);
  assert.equal(result.stderr, '', `${name}.sh wrote to stderr under ${shell}`);
  return result.stdout;
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

test('shellcheck -s sh passes on every script under scripts/', () => {
  const files = shellFiles(SCRIPTS_DIR);
  assert.ok(files.length >= 3, 'scripts found');
  const result = spawnSync('shellcheck', ['-s', 'sh', ...files], { encoding: 'utf8' });
  if (result.error)
    throw new Error(`shellcheck not runnable (apt-get install shellcheck): ${result.error.message}`);
  assert.equal(
    result.status,
    0,
    `shellcheck failed for ${files.map((f) => relative(SCRIPTS_DIR, f)).join(', ')}:\n${result.stdout}`,
  );
});

for (const [shell, prefix] of shells) {
  const label = [shell, ...prefix].join(' ');

  test(`facts.sh under ${label}: one JSON line describing this machine`, () => {
    const facts = lastJson(runScript(shell, prefix, 'facts'));
    const os = facts.os as Record<string, string>;
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    assert.equal(os.id, /^ID=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, ''));
    assert.equal(os.prettyName, /^PRETTY_NAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/^"|"$/g, ''));
    assert.equal(facts.kernel, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    assert.equal(facts.arch, execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    assert.equal(facts.hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    assert.equal(facts.cpus, Number(execFileSync('nproc', { encoding: 'utf8' })));
    const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    assert.equal(facts.memoryBytes, memKb * 1024);
    const disks = facts.disks as { name: string; sizeBytes: number; rotational: boolean }[];
    const expected = readdirSync('/sys/block').filter(
      (n) => !/^(loop|ram|zram)/.test(n) && Number(readFileSync(`/sys/block/${n}/size`, 'utf8')) > 0,
    );
    assert.deepEqual(disks.map((d) => d.name).sort(), expected.sort());
    for (const disk of disks) {
      assert.equal(disk.sizeBytes, Number(readFileSync(`/sys/block/${disk.name}/size`, 'utf8')) * 512);
      assert.equal(typeof disk.rotational, 'boolean');
    }
    assert.equal(facts.kvm, statSafe('/dev/kvm'));
    const tools = facts.tools as Record<string, boolean>;
    assert.deepEqual(Object.keys(tools), [
      'firecracker',
      'jailer',
      'qemu-system-x86_64',
      'crun',
      'runc',
      'zpool',
      'weed',
    ]);
    for (const [tool, found] of Object.entries(tools)) {
      assert.equal(found, spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0, tool);
    }
    assert.equal(facts.cgroup, statSafe('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'v1');
    assert.ok(['systemd', 'openrc', 'none'].includes(facts.init as string));
  });

  test(`heartbeat.sh under ${label}`, () => {
    const uptime = (): number => Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]));
    const before = uptime();
    const beat = lastJson(runScript(shell, prefix, 'heartbeat'));
    const after = uptime();
    assert.equal(beat.ok, true);
    assert.ok((beat.uptimeSeconds as number) >= before && (beat.uptimeSeconds as number) <= after);
    assert.equal(typeof beat.load1, 'number');
    assert.ok((beat.memAvailableBytes as number) > 0);
  });

  test(`install-key.sh under ${label}: adds once, keeps other lines, fixes modes, refuses junk`, (t) => {
    const home = mkdtempSync(join(tmpdir(), 'grim-home-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const key = generateKeyPair('ctl').publicKey;
    const first = lastJson(runScript(shell, prefix, 'install-key', { HOME: home, GRIM_PUBLIC_KEY: key }));
    assert.deepEqual(first, { added: true, path: `${home}/.ssh/authorized_keys` });
    assert.equal(statSync(`${home}/.ssh`).mode & 0o777, 0o700);
    assert.equal(statSync(`${home}/.ssh/authorized_keys`).mode & 0o777, 0o600);
    // an existing last line without newline stays intact; the same key with another comment counts as present
    writeFileSync(`${home}/.ssh/authorized_keys`, 'ssh-ed25519 AAAAother admin', { mode: 0o644 });
    assert.equal(
      lastJson(runScript(shell, prefix, 'install-key', { HOME: home, GRIM_PUBLIC_KEY: key })).added,
      true,
    );
    const renamed = key.replace(/grim@ctl$/, 'grim@elsewhere');
    assert.equal(
      lastJson(runScript(shell, prefix, 'install-key', { HOME: home, GRIM_PUBLIC_KEY: renamed })).added,
      false,
    );
    assert.equal(
      readFileSync(`${home}/.ssh/authorized_keys`, 'utf8'),
      `ssh-ed25519 AAAAother admin\n${key}\n`,
    );
    assert.equal(statSync(`${home}/.ssh/authorized_keys`).mode & 0o777, 0o600);
    for (const junk of ['', 'not a key', `${key}\nssh-ed25519 AAAAevil x`, 'ssh-ed25519 AAAA$(id)']) {
      const result = spawnSync(shell, [...prefix, '-s'], {
        input: readFileSync(join(SCRIPTS_DIR, 'node', 'install-key.sh')),
        env: { PATH: process.env.PATH, HOME: home, GRIM_PUBLIC_KEY: junk },
        encoding: 'utf8',
      });
      assert.equal(result.status, 2, `accepted ${JSON.stringify(junk)}`);
    }
    assert.equal(
      readFileSync(`${home}/.ssh/authorized_keys`, 'utf8'),
      `ssh-ed25519 AAAAother admin\n${key}\n`,
    );
  });
}

function statSafe(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
