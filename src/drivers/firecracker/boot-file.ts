// The boot plan as a node-side file: one request per line, "METHOD PATH JSON-BODY". The supervisor's
// scripts/node/vm-fc-run.sh sends each line through the VMM's API socket every time it starts the VMM, so a
// VM is booted again after a guest reboot or a VMM crash without the control node. Pure.
import type { ApiRequest } from './api-types.ts';

const PATH_RE = /^\/[A-Za-z0-9/_.-]*$/;

/** Renders a plan; refuses what the line format cannot carry (a GET, a path with spaces, no body). */
export function bootPlanFile(plan: readonly ApiRequest[]): string {
  return plan
    .map((r) => {
      if (r.method === 'GET') throw new Error(`boot plan: ${r.path} is a GET; only PUT and PATCH are sent`);
      if (!PATH_RE.test(r.path))
        throw new Error(`boot plan: path ${JSON.stringify(r.path)} is not a plain path`);
      if (r.body === undefined) throw new Error(`boot plan: ${r.method} ${r.path} has no body`);
      return `${r.method} ${r.path} ${JSON.stringify(r.body)}\n`;
    })
    .join('');
}

/** The requests of a boot-plan file (for tests and inspection). */
export function parseBootPlanFile(text: string): ApiRequest[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^(PUT|PATCH) (\S+) (.*)$/.exec(line);
      if (m === null) throw new Error(`boot-plan line is not "METHOD PATH JSON": ${line.slice(0, 80)}`);
      return { method: m[1] as 'PUT' | 'PATCH', path: m[2], body: JSON.parse(m[3]) as unknown };
    });
}
