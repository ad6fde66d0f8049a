// Typed wrappers around the VM node scripts (scripts/node/vm-*.sh), run through the driver's OpCtx.
import type { OpCtx } from '../driver.ts';
import { scriptFor } from '../../scripts/loader.ts';

export async function runJson<T>(
  ctx: OpCtx,
  script: string,
  env: Record<string, string | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const { json } = await ctx.runScript(script, clean, { timeoutMs });
  const result = json as T & { ok?: boolean; error?: string };
  if (result !== null && typeof result === 'object' && result.ok === false) {
    throw new Error(`${script} on ${ctx.node}: ${result.error ?? 'failed'}`);
  }
  return result;
}

/** Creates VM_ROOT/staging/<name> on the node and returns its path. */
export async function stageDir(ctx: OpCtx, vmRoot: string, name: string): Promise<string> {
  const r = await runJson<{ dir: string }>(ctx, 'vm-stage-dir', { NAME: name, VM_ROOT: vmRoot });
  return r.dir;
}

export async function removeStageDir(ctx: OpCtx, vmRoot: string, name: string): Promise<void> {
  await runJson(ctx, 'vm-stage-dir', { NAME: name, VM_ROOT: vmRoot, ACTION: 'remove' });
}

/** Uploads grim's guest scripts (scripts/guest/<name>.sh) into a node directory; returns the path. */
export async function uploadGuestScript(
  ctx: OpCtx,
  dir: string,
  name: 'init' | 'initramfs-init',
): Promise<string> {
  const body = Buffer.from(scriptFor(`guest/${name}`).body);
  const target = `${dir}/${name}.sh`;
  await ctx.upload(target, body, 0o755);
  return target;
}
