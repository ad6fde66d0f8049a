/** Setup shared by the apps lab tests: lab nodes in grim, waiting for jobs, fetching from instances. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { LabState } from '../../src/lab/state.ts';
import type { TestApp } from './app.ts';

/** An API call as the tests make it: method, path, JSON body; status and parsed JSON back. */
export type ApiCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: any }>;

/** Adds every lab node to environment "lab" (pinned keys, the lab's key as credential) and makes `group` of them. */
export async function addLabNodes(call: ApiCall, lab: LabState, group: string, roles?: string[]) {
  assert.equal((await call('POST', '/api/environments', { name: 'lab' })).status, 201);
  const privateKey = readFileSync(lab.clientKeyPath, 'utf8');
  for (const n of lab.nodes) {
    const r = await call('POST', '/api/nodes', {
      name: n.name,
      environment: 'lab',
      address: n.address,
      hostKeyFingerprint: n.hostKeyFingerprint,
      credential: { privateKey },
      ...(roles ? { roles } : {}),
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  const nodes = lab.nodes.map((n) => n.name);
  assert.equal((await call('POST', '/api/groups', { name: group, environment: 'lab', nodes })).status, 201);
}

/** addLabNodes through an in-process test app, as its admin. */
export function addLab(a: TestApp, lab: LabState, group: string, roles?: string[]) {
  return addLabNodes((m, u, body) => a.call(m, u, { token: a.adminToken, body }), lab, group, roles);
}

/** Waits until a job is no longer running and returns it. */
export async function waitJob(a: TestApp, id: string, ms = 300_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = (await a.call('GET', `/api/jobs/${id}`, { token: a.adminToken })).json.job;
    if (j.status !== 'running') return j;
    if (Date.now() > end) throw new Error(`job ${id} still running after ${ms} ms: ${JSON.stringify(j)}`);
    await delay(250);
  }
}

/** Polls `fn` until it returns a value (not undefined or false); throws naming `what` after `ms`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 90_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(300);
  }
}

/** GETs a URL: its body, or what went wrong, as text (never throws). */
export async function fetchText(url: string) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return r.ok ? await r.text() : `HTTP ${r.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/**
 * After a failed run: the lab's teardown kills the containers but their cgroups stay in the host's hierarchy.
 * Kill whatever is left in this run's instance cgroups, then remove them.
 */
export async function removeCgroupsOf(app: string) {
  const dirs: string[] = [];
  for (const base of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`)])
    try {
      for (const id of readdirSync(`${base}/grim`))
        if (id.startsWith(`${app}-`)) dirs.push(`${base}/grim/${id}`);
    } catch {
      // no grim cgroups in this hierarchy
    }
  for (let attempt = 0; attempt < 20 && dirs.length; attempt++) {
    for (const d of [...dirs]) {
      try {
        for (const pid of readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n').filter(Boolean))
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        rmdirSync(d);
        dirs.splice(dirs.indexOf(d), 1);
      } catch {
        // still busy: try again
      }
    }
    if (dirs.length) await delay(250);
  }
}
