// Support for the microVM tests: an OpCtx that reaches a lab node with the OpenSSH client (scripts
// with parameters as quoted environment variables, uploads streamed on stdin), the test image with
// an HTTP app, and a poller for HTTP answers.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type { OpCtx } from '../../src/drivers/driver.ts';
import type { LabNode, LabState } from '../../src/lab/state.ts';
import { prepareCommand } from '../../src/ssh/command.ts';
import { quoteArgv } from '../../src/ssh/quote.ts';
import { scriptCommand } from '../../src/scripts/loader.ts';
import { lastLineJson } from '../../src/ssh/output.ts';
import type { ExecResult } from '../../src/ssh/channel-exec.ts';
import type { BuiltImage } from '../helpers/oci-image.ts';
import { assembleImage, gzipLayer, tarDirectory } from '../helpers/oci-image.ts';
import type { ImageConfig } from '../../src/oci/types.ts';
import { registryBinaryAvailable } from '../helpers/registry.ts';

/** The Alpine minirootfs the microVM test images are built from. */
export const ALPINE_ROOTFS =
  process.env.GRIM_ALPINE_ROOTFS ?? '/work/shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz';

/** The version of this host's kernel in /boot (the guest kernel of the qemu-microvm tests), if any. */
export function hostKernelVersion(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  return readdirSync('/boot')
    .find((f) => f.startsWith('vmlinuz-'))
    ?.slice('vmlinuz-'.length);
}

/** Why a qemu-microvm app cannot run on a lab here, or undefined when it can. */
export function qemuAppsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (lab nodes, TAP devices)';
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed';
  if (!registryBinaryAvailable()) return 'docker-registry is not installed';
  if (!existsSync(ALPINE_ROOTFS))
    return `Alpine minirootfs not found at ${ALPINE_ROOTFS} (set GRIM_ALPINE_ROOTFS)`;
  const k = hostKernelVersion();
  if (k === undefined) return 'no /boot/vmlinuz-* (apt-get install linux-image-amd64)';
  if (!existsSync(`/lib/modules/${k}/modules.dep`)) return `no /lib/modules/${k}`;
  for (const tool of ['/usr/sbin/nft', '/usr/bin/socat', '/bin/busybox'])
    if (!existsSync(tool)) return `${tool} is missing (nftables, socat, busybox-static)`;
  return undefined;
}

function ssh(
  lab: LabState,
  node: LabNode,
  commandLine: string,
  stdin: Buffer | NodeJS.ReadableStream | string,
  timeoutMs: number,
): Promise<ExecResult> {
  const args = [
    '-i', lab.clientKeyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${node.address}`, commandLine,
  ]; // prettier-ignore
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        signal: signal ?? undefined,
        stdout,
        stderr,
        durationMs: Date.now() - started,
        timedOut: signal === 'SIGKILL',
        json: lastLineJson(stdout),
      });
    });
    if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) child.stdin.end(stdin);
    else stdin.pipe(child.stdin);
  });
}

/** An OpCtx for one lab node over the OpenSSH client. */
export function labOpCtx(lab: LabState, node: LabNode, log: (line: string) => void = () => {}): OpCtx {
  return {
    node: node.name,
    log,
    async runScript(name, env, opts) {
      const prepared = prepareCommand(scriptCommand(name, env));
      const result = await ssh(lab, node, prepared.commandLine, prepared.stdin, opts?.timeoutMs ?? 300_000);
      if (result.exitCode !== 0 && (result.json as { ok?: boolean } | undefined)?.ok !== false) {
        throw new Error(
          `${name} on ${node.name} failed (${result.exitCode}): ${result.stderr.slice(-2000)} ${result.stdout.slice(-500)}`,
        );
      }
      return { json: result.json, result };
    },
    async upload(path, data, mode = 0o600) {
      const dir = path.slice(0, path.lastIndexOf('/')) || '/';
      const cmd = `mkdir -p ${quoteArgv([dir])} && cat > ${quoteArgv([`${path}.partial`])} && chmod ${mode.toString(8)} ${quoteArgv([`${path}.partial`])} && mv -f ${quoteArgv([`${path}.partial`, path])}`;
      const r = await ssh(lab, node, cmd, data, 600_000);
      if (r.exitCode !== 0) throw new Error(`upload of ${path} to ${node.name} failed: ${r.stderr}`);
    },
  };
}

/** The start script of the test app: serves $GREETING over HTTP and reports SIGTERM on the console. */
export const APP_START = `#!/bin/sh
trap 'echo "grim-test: app got SIGTERM"; kill "$pid"; exit 0' TERM
mkdir -p /srv/www
if [ "$SECRET" = s3cr3t-value ]; then secret=secret-ok; else secret=secret-missing; fi
echo "$GREETING from $(hostname) $secret" > /srv/www/index.html
echo "grim-test: serving as $(id -u) in $(pwd)"
/usr/local/bin/busybox httpd -f -p 80 -h /srv/www &
pid=$!
wait "$pid"
`;

/** Alpine (the minirootfs tarball as layer 1) + an app layer with a static busybox and APP_START. */
export function buildAlpineHttpImage(workDir: string, alpineTarball: string, padBytes = 0): BuiltImage {
  const appDir = join(workDir, 'app-layer');
  mkdirSync(join(appDir, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(appDir, 'app'), { recursive: true });
  copyFileSync('/bin/busybox', join(appDir, 'usr/local/bin/busybox'));
  writeFileSync(join(appDir, 'app/start.sh'), APP_START, { mode: 0o755 });
  if (padBytes > 0) {
    // incompressible filler for the ~50 MB benchmark image
    writeFileSync(join(appDir, 'app/filler.bin'), randomBytes(padBytes));
  }
  const layers = [gzipLayer(readFileSync(alpineTarball), true), gzipLayer(tarDirectory(appDir))];
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: ['/bin/sh', '/app/start.sh'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'GREETING=hello-from-image'],
      WorkingDir: '/srv',
      ExposedPorts: { '80/tcp': {} },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  return assembleImage(layers, config);
}

/** A tarball app: bin/busybox (static, for httpd) and serve.sh, which behaves like APP_START. */
export function buildTarballApp(workDir: string): string {
  const dir = join(workDir, 'tarball-app');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  writeFileSync(join(dir, 'serve.sh'), APP_START.replace('/usr/local/bin/busybox', '/app/bin/busybox'), {
    mode: 0o755,
  });
  const tarball = join(workDir, 'app.tar.gz');
  writeFileSync(tarball, gzipSync(tarDirectory(dir)));
  return tarball;
}

/** Polls an HTTP URL until it answers 200; returns the body. */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  alive?: () => Promise<string | undefined>,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return await res.text();
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    const dead = await alive?.();
    if (dead !== undefined) throw new Error(`${url}: the VM is gone: ${dead}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (last: ${last})`);
}
