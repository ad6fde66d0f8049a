// SshPool against a real OpenSSH server (test/helpers/sshd.ts) on 127.0.0.1.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SshPool, type SshTarget } from '../../src/ssh/pool.ts';
import { keyExchangeList, scanHostKey } from '../../src/ssh/connect.ts';
import { ConnectError, HostKeyMismatchError } from '../../src/ssh/errors.ts';
import { connectWithPassword, connectWithPrivateKey } from '../../src/ssh/install-key.ts';
import { generateKeyPair } from '../../src/ssh/keys.ts';
import { runScript } from '../../src/ssh/run-script.ts';
import { sshdUnavailableReason, startSshd, type TestSshd } from '../helpers/sshd.ts';

const skip = sshdUnavailableReason();
if (skip) console.log(`# ssh-pool tests skipped: ${skip}`);

let sshd: TestSshd;
const pools: SshPool[] = [];

before(async () => {
  if (!skip) sshd = await startSshd();
});
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  if (sshd) await sshd.stop();
});

function targetOf(server: TestSshd, overrides: Partial<SshTarget> = {}): SshTarget {
  return {
    nodeId: `n-${server.port}`,
    address: server.address,
    port: server.port,
    user: server.user,
    hostKeyFingerprint: server.hostKeyFingerprint,
    ...overrides,
  };
}

function newPool(server: TestSshd, options: Partial<ConstructorParameters<typeof SshPool>[0]> = {}): SshPool {
  const pool = new SshPool({ privateKey: server.clientPrivateKey, ...options });
  pools.push(pool);
  return pool;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

const opts = { timeoutMs: 20_000 };

test('exec: stdout, stderr, exit code and the JSON last line', { skip }, async () => {
  const pool = newPool(sshd);
  const ok = await pool.exec(
    targetOf(sshd),
    { script: 'echo hello; echo oops >&2; echo \'{"n":42}\'' },
    opts,
  );
  assert.equal(ok.exitCode, 0);
  assert.equal(ok.stdout, 'hello\n{"n":42}\n');
  assert.equal(ok.stderr, 'oops\n');
  assert.deepEqual(ok.json, { n: 42 });
  assert.equal(ok.timedOut, false);
  const failed = await pool.exec(targetOf(sshd), { script: 'echo bad >&2; exit 3' }, opts);
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.stderr, 'bad\n');
  const argv = await pool.exec(targetOf(sshd), { argv: ['printf', '%s|', 'a b', "c'd"] }, opts);
  assert.equal(argv.stdout, "a b|c'd|");
  const chunks: string[] = [];
  await pool.exec(
    targetOf(sshd),
    { script: 'echo one; echo two >&2' },
    { ...opts, onData: (s, c) => chunks.push(`${s}:${c}`) },
  );
  assert.deepEqual(chunks.sort(), ['stderr:two\n', 'stdout:one\n']);
});

test(
  'many concurrent commands share one connection and never exceed the channel bound',
  { skip },
  async (t) => {
    const before = sshd.logins();
    const pool = newPool(sshd); // default bound 8, server MaxSessions 10
    const dir = `/tmp/grim-sessions-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const script =
      'mkdir -p "$D"; : >"$D/$$"; n=$(ls "$D" | wc -l); sleep 0.3; rm "$D/$$"; echo "{\\"n\\":$n}"';
    const results = await Promise.all(
      Array.from({ length: 40 }, () => pool.exec(targetOf(sshd), { script, env: { D: dir } }, opts)),
    );
    assert.deepEqual(
      results.map((r) => r.exitCode),
      results.map(() => 0),
      results.map((r) => r.stderr).join(''),
    );
    const seen = results.map((r) => (r.json as { n: number }).n);
    assert.ok(Math.max(...seen) <= 8, `saw ${Math.max(...seen)} sessions at once`);
    assert.ok(Math.max(...seen) >= 2, 'commands actually ran concurrently');
    assert.equal(sshd.logins() - before, 1, 'one SSH connection for all 40 commands');
    assert.equal(pool.stats().channelsActive, 0);

    const narrow = newPool(sshd, { maxChannelsPerConnection: 3 });
    const few = await Promise.all(
      Array.from({ length: 12 }, () => narrow.exec(targetOf(sshd), { script, env: { D: dir } }, opts)),
    );
    assert.ok(Math.max(...few.map((r) => (r.json as { n: number }).n)) <= 3);
  },
);

test(
  'instant commands: the exit status is never missed, even when it arrives with the channel',
  { skip },
  async () => {
    // ssh2 can deliver the exit status in the same read as the channel confirmation; a listener
    // attached after that would report a lost connection for a command that succeeded.
    for (const fresh of [true, false]) {
      const pool = newPool(sshd);
      if (!fresh) await pool.exec(targetOf(sshd), { argv: ['true'] }, opts);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => pool.exec(targetOf(sshd), { argv: ['true'] }, opts)),
      );
      assert.deepEqual(
        results.map((r) => r.exitCode),
        results.map(() => 0),
      );
    }
  },
);

test('a wrong pinned host key is refused and nothing runs', { skip }, async (t) => {
  const marker = `/tmp/grim-mismatch-${randomBytes(4).toString('hex')}`;
  t.after(() => rmSync(marker, { force: true }));
  const before = sshd.logins();
  const pool = newPool(sshd);
  const wrong = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
  await assert.rejects(
    pool.exec(targetOf(sshd, { hostKeyFingerprint: wrong }), { argv: ['touch', marker] }, opts),
    (err: unknown) =>
      err instanceof HostKeyMismatchError && err.expected === wrong && err.actual === sshd.hostKeyFingerprint,
  );
  assert.equal(existsSync(marker), false);
  assert.equal(sshd.logins(), before, 'no login happened');
  await assert.rejects(
    pool.exec(targetOf(sshd, { hostKeyFingerprint: '' }), { argv: ['true'] }, opts),
    ConnectError,
  );
});

test('scanHostKey captures the fingerprint without logging in', { skip }, async () => {
  const before = sshd.logins();
  const scanned = await scanHostKey(sshd.address, sshd.port);
  assert.equal(scanned.fingerprint, sshd.hostKeyFingerprint);
  assert.equal(scanned.keyType, 'ssh-ed25519');
  assert.equal(
    scanned.publicKey,
    readFileSync(`${sshd.dir}/host_ed25519.pub`, 'utf8').split(' ').slice(0, 2).join(' '),
  );
  assert.equal(sshd.logins(), before);
});

test(
  'a dead port and a silent server fail within the connect timeout while another node works',
  { skip },
  async (t) => {
    const silent = createServer((socket: Socket) => socket.on('error', () => {})); // accepts, never speaks SSH
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const sockets = new Set<Socket>();
    silent.on('connection', (s) => sockets.add(s));
    t.after(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));

    const pool = newPool(sshd, { connectTimeoutMs: 1500 });
    const [dead, mute, alive] = await Promise.allSettled([
      pool.exec(targetOf(sshd, { nodeId: 'dead', port: deadPort }), { argv: ['true'] }, opts),
      pool.exec(targetOf(sshd, { nodeId: 'mute', port: silentPort }), { argv: ['true'] }, opts),
      pool.exec(targetOf(sshd), { argv: ['echo', 'alive'] }, opts),
    ]);
    assert.equal(alive.status === 'fulfilled' && alive.value.stdout, 'alive\n');
    assert.ok(
      dead.status === 'rejected' && dead.reason instanceof ConnectError && dead.reason.reason === 'refused',
    );
    assert.ok(
      mute.status === 'rejected' && mute.reason instanceof ConnectError && mute.reason.reason === 'timeout',
    );
    assert.equal(mute.reason.nodeId, 'mute');
    // a node that just failed fails again at once instead of queueing another handshake
    await assert.rejects(
      pool.exec(targetOf(sshd, { nodeId: 'mute', port: silentPort }), { argv: ['true'] }, opts),
      ConnectError,
    );
  },
);

test('a blackholed address (packets dropped in a netns) times out', { skip }, async (t) => {
  const id = randomBytes(2).toString('hex');
  const ns = `grim-ssh-${id}`;
  const subnet = `10.213.${parseInt(id, 16) % 250}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
  } catch (err) {
    t.skip(`cannot create a network namespace: ${(err as Error).message}`);
    return;
  }
  t.after(() => execFileSync('ip', ['netns', 'del', ns]));
  try {
    execFileSync('ip', ['link', 'add', `gs${id}a`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    execFileSync('ip', ['addr', 'add', `${subnet}.1/30`, 'dev', `gs${id}a`]);
    execFileSync('ip', ['link', 'set', `gs${id}a`, 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${subnet}.2/30`, 'dev', 'eth0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'INPUT', '-p', 'tcp', '-j', 'DROP']);
  } catch (err) {
    t.skip(`cannot set up the blackhole (needs ip + iptables): ${(err as Error).message}`);
    return;
  }
  const pool = newPool(sshd, { connectTimeoutMs: 1500 });
  const [hole, alive] = await Promise.allSettled([
    pool.exec(targetOf(sshd, { nodeId: 'hole', address: `${subnet}.2`, port: 22 }), { argv: ['true'] }, opts),
    pool.exec(targetOf(sshd), { argv: ['echo', 'alive'] }, opts),
  ]);
  assert.equal(alive.status === 'fulfilled' && alive.value.stdout, 'alive\n');
  assert.ok(hole.status === 'rejected' && hole.reason instanceof ConnectError, String(hole.status));
  assert.equal(hole.reason.reason, 'timeout');
});

test('per-command timeout signals the remote command and reports timedOut', { skip }, async (t) => {
  const pidFile = `/tmp/grim-timeout-${randomBytes(4).toString('hex')}`;
  t.after(() => rmSync(pidFile, { force: true }));
  const pool = newPool(sshd);
  const result = await pool.exec(
    targetOf(sshd),
    { script: 'echo started; echo $$ >"$P"; exec sleep 300', env: { P: pidFile } },
    { timeoutMs: 700 },
  );
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, null);
  assert.equal(result.stdout, 'started\n');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await until(() => !isAlive(pid), `remote process ${pid} to die`);
  const next = await pool.exec(targetOf(sshd), { argv: ['echo', 'still fine'] }, opts);
  assert.equal(next.stdout, 'still fine\n');
});

test('aborting a command rejects with the reason and frees its slot', { skip }, async () => {
  const pool = newPool(sshd);
  const ac = new AbortController();
  const running = pool.exec(
    targetOf(sshd),
    { argv: ['sleep', '300'] },
    { timeoutMs: 60_000, signal: ac.signal },
  );
  setTimeout(() => ac.abort(new Error('user cancelled')), 300);
  await assert.rejects(running, /user cancelled/);
  await until(() => pool.stats().channelsActive === 0, 'slot release');
});

test(
  'shell metacharacters, quotes and newlines in env values and args arrive literally',
  { skip },
  async (t) => {
    const marker = `/tmp/pwned-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(marker, { force: true }));
    const values = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}; #`,
      `'; touch ${marker}; '`,
      `"$(touch ${marker})"`,
      'line one\nline two\n',
      '-n',
      '\\ back\\slash \t tab é ✓',
      '',
    ];
    const pool = newPool(sshd);
    const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
    const names = Object.keys(env)
      .map((n) => `"$${n}"`)
      .join(' ');
    const result = await pool.exec(
      targetOf(sshd),
      { script: `printf '%s\\0' ${names} "$@"`, env, args: values },
      opts,
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), [...values, ...values]);
    const argv = await pool.exec(targetOf(sshd), { argv: ['printf', '%s\\0', ...values] }, opts);
    assert.deepEqual(argv.stdout.split('\0').slice(0, -1), values);
    assert.equal(existsSync(marker), false, 'a value was executed');
  },
);

test('idle connections are closed, and the next command reconnects', { skip }, async () => {
  const pool = newPool(sshd, { idleMs: 200 });
  const before = sshd.logins();
  await pool.exec(targetOf(sshd), { argv: ['true'] }, opts);
  assert.equal(pool.stats().connectionsOpen, 1);
  await until(() => pool.stats().connectionsOpen === 0 && pool.stats().nodes === 0, 'idle close');
  const again = await pool.exec(targetOf(sshd), { argv: ['echo', 'back'] }, opts);
  assert.equal(again.stdout, 'back\n');
  assert.equal(sshd.logins() - before, 2);
});

test('a dropped connection is re-established for the next command', { skip }, async () => {
  const pool = newPool(sshd);
  const first = await pool.exec(targetOf(sshd), { script: 'echo $PPID' }, opts);
  assert.equal(first.exitCode, 0);
  // kill the sshd process serving this connection (a "network drop" from grim's point of view)
  const sessionPid = serverProcessOf(Number(first.stdout.trim()));
  process.kill(sessionPid, 'SIGKILL');
  await until(() => pool.stats().connectionsOpen === 0, 'the pool to notice the drop');
  const second = await pool.exec(targetOf(sshd), { argv: ['echo', 'reconnected'] }, opts);
  assert.equal(second.stdout, 'reconnected\n');
});

test('a running command on a dropped connection fails with ConnectError closed', { skip }, async (t) => {
  const pidFile = `/tmp/grim-drop-${randomBytes(4).toString('hex')}`;
  const pool = newPool(sshd);
  const running = pool.exec(
    targetOf(sshd),
    { script: 'echo "$PPID $$" >"$P"; sleep 300', env: { P: pidFile } },
    opts,
  );
  await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'command start');
  const [sessionParent, sessionGroup] = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  t.after(() => {
    rmSync(pidFile, { force: true });
    try {
      process.kill(-sessionGroup, 'SIGKILL'); // the orphaned remote command
    } catch {
      // already gone
    }
  });
  process.kill(serverProcessOf(sessionParent), 'SIGKILL');
  await assert.rejects(running, (err: unknown) => err instanceof ConnectError && err.reason === 'closed');
});

test('runScript runs scripts/node/heartbeat.sh and facts.sh over SSH', { skip }, async () => {
  const pool = newPool(sshd);
  const beat = await runScript(pool, targetOf(sshd), 'heartbeat', {}, opts);
  assert.equal((beat.json as { ok: boolean }).ok, true);
  const facts = await runScript(pool, targetOf(sshd), 'facts', {}, opts);
  assert.equal(
    (facts.json as { kernel: string }).kernel,
    execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
  );
});

test('pty shell for a web terminal', { skip }, async () => {
  const pool = newPool(sshd);
  const stream = await pool.shell(targetOf(sshd), { cols: 80, rows: 24 });
  let seen = '';
  stream.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  stream.write('echo "tty=$(tty | cut -c1-8) sum=$((40+2))"\n');
  await until(() => seen.includes('tty=/dev/pts sum=42'), 'shell output');
  assert.equal(pool.stats().channelsActive, 1);
  stream.end('exit\n');
  await until(() => pool.stats().channelsActive === 0, 'shell slot release');
});

test(
  'password bootstrap installs grim key once, then key auth works; wrong password is refused',
  { skip },
  async (t) => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const server = await startSshd({ password, authorizeClientKey: false });
    t.after(() => server.stop());
    const grimKey = generateKeyPair('ctl');
    const scanned = await scanHostKey(server.address, server.port);
    assert.equal(scanned.fingerprint, server.hostKeyFingerprint);

    await assert.rejects(
      connectWithPassword(
        server.address,
        server.port,
        server.user,
        'wrong',
        scanned.fingerprint,
        grimKey.publicKey,
      ),
      (err: unknown) => err instanceof ConnectError && err.reason === 'auth',
    );
    const first = await connectWithPassword(
      server.address,
      server.port,
      server.user,
      password,
      scanned.fingerprint,
      grimKey.publicKey,
    );
    assert.deepEqual(first, { added: true, path: server.authorizedKeysPath });
    const second = await connectWithPassword(
      server.address,
      server.port,
      server.user,
      password,
      scanned.fingerprint,
      grimKey.publicKey,
    );
    assert.equal(second.added, false);
    assert.equal(readFileSync(server.authorizedKeysPath, 'utf8'), `${grimKey.publicKey}\n`);

    const pool = new SshPool({ privateKey: grimKey.privateKey });
    pools.push(pool);
    const result = await pool.exec(targetOf(server), { argv: ['echo', 'key works'] }, opts);
    assert.equal(result.stdout, 'key works\n');

    // "a key the admin already has": install a second key using grim's now-working key
    const other = generateKeyPair('other');
    const viaKey = await connectWithPrivateKey(
      server.address,
      server.port,
      server.user,
      grimKey.privateKey,
      scanned.fingerprint,
      other.publicKey,
    );
    assert.equal(viaKey.added, true);
    await assert.rejects(
      connectWithPassword(
        server.address,
        server.port,
        server.user,
        password,
        `SHA256:${'A'.repeat(43)}`,
        grimKey.publicKey,
      ),
      HostKeyMismatchError,
    );
  },
);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The sshd process that owns a session: walk up from the session's shell to the first sshd. */
function serverProcessOf(pid: number): number {
  let current = pid;
  for (let i = 0; i < 5; i++) {
    const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm === 'sshd') return current;
    current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  throw new Error(`no sshd above ${pid}`);
}

test(
  'key exchange: P-256 when preferred, curve25519 by default, never a SHA-1 exchange',
  { skip },
  async (t) => {
    assert.deepEqual(keyExchangeList('curve25519').slice(0, 3), [
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'ecdh-sha2-nistp256',
    ]);
    assert.equal(keyExchangeList('ecdh-p256')[0], 'ecdh-sha2-nistp256');
    for (const pref of ['curve25519', 'ecdh-p256'] as const)
      assert.ok(!keyExchangeList(pref).some((k) => /sha1/.test(k)), `${pref}: no SHA-1 exchange offered`);

    const p256only = await startSshd({ kexAlgorithms: 'ecdh-sha2-nistp256' });
    t.after(() => p256only.stop());
    for (const keyExchange of ['curve25519', 'ecdh-p256'] as const) {
      const pool = new SshPool({ privateKey: p256only.clientPrivateKey, keyExchange });
      t.after(() => pool.close());
      const r = await pool.exec(targetOf(p256only), { argv: ['echo', 'ok'] }, opts);
      assert.equal(r.stdout, 'ok\n', `${keyExchange} preference still agrees on P-256`);
    }
    const sha1only = await startSshd({ kexAlgorithms: 'diffie-hellman-group14-sha1' });
    t.after(() => sha1only.stop());
    const pool = new SshPool({ privateKey: sha1only.clientPrivateKey });
    t.after(() => pool.close());
    await assert.rejects(
      pool.exec(targetOf(sha1only), { argv: ['true'] }, opts),
      /handshake|algorithm|negotiat/i,
    );
    assert.equal(sha1only.logins(), 0);
  },
);
