import { useEffect, useRef, useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { bytes, type Disk } from './storage-types.ts';
import { PoolPlanView } from './PoolPlanView.tsx';

const LAYOUTS = [
  'raidz2',
  'raidz1',
  'raidz3',
  'striped-mirrors',
  'mirror',
  'stripe',
  'draid1',
  'draid2',
  'draid3',
];
/** What a disk is for in the new pool ('' = not used); the API's lists by role. */
const ROLES = [
  ['', 'not used'],
  ['data', 'data'],
  ['log', 'log (ZIL)'],
  ['cache', 'cache (L2ARC)'],
  ['special', 'special (metadata)'],
  ['spares', 'spare'],
] as const;
type Role = (typeof ROLES)[number][0];

/** How many of each node's free disks a role takes when the same layout goes on several nodes. */
const COUNTS = [
  ['data', 'Data disks per node', '0 = all free disks left'],
  ['log', 'Log disks', 'SSDs first'],
  ['cache', 'Cache disks', 'SSDs first'],
  ['special', 'Special disks', 'SSDs first'],
  ['spares', 'Spare disks', ''],
] as const;
type Counts = Record<(typeof COUNTS)[number][0], number>;

export type PlanOnNode = Awaited<ReturnType<typeof plansOf>>[number];
/** Plans on one node (disks by path) or on several (disks by role and count): all checked by the server. */
async function plansOf(nodes: string[], body: any) {
  if (nodes.length === 1)
    return [{ node: nodes[0], plan: await call('planPool', { params: { node: nodes[0] }, body }) }];
  return (await call('planPools', { body: { nodes, pool: body } })).nodes;
}

interface Choices {
  name: string;
  layout: string;
  width: number;
  roles: Record<string, Role>;
  compression: string;
  mountpoint: string;
  force: boolean;
  /** Other nodes that get the same layout (then disks go by count). */
  also: string[];
  counts: Counts;
}

/** The pool request the API takes, from what the form holds. */
function requestOf(c: Choices) {
  const byRole = (role: Role) =>
    Object.entries(c.roles)
      .filter(([, r]) => r === role)
      .map(([path]) => path);
  const req: Record<string, unknown> = { name: c.name, layout: c.layout };
  if (c.layout === 'mirror' || c.layout === 'striped-mirrors') req.width = c.width || 2;
  else if (c.layout.startsWith('raidz') && c.width > 0) req.width = c.width;
  if (c.also.length) req.take = Object.fromEntries(Object.entries(c.counts).filter(([, n]) => n > 0));
  else {
    req.disks = byRole('data');
    for (const role of ['log', 'cache', 'special', 'spares'] as const)
      if (byRole(role).length) req[role] = byRole(role);
  }
  if (c.compression) req.compression = c.compression;
  if (c.mountpoint) req.mountpoint = c.mountpoint;
  if (c.force) req.force = true;
  return req;
}

/**
 * The pool wizard: name, layout, a role for each disk (data, log, cache, special, spare) and the pool's
 * options; grim shows the usable capacity, how many disks may fail, its warnings and the exact
 * `zpool create` command, and the plan follows every change once previewed. Nothing runs until "Create pool".
 * Ticking other storage nodes puts the same layout on each: disks then go by role and count (each node's
 * own free disks), every node gets its own plan, and nothing is created unless every plan holds.
 */
export function PoolWizard({
  node,
  otherNodes,
  disks,
  compressions,
  onCreated,
}: {
  node: string;
  otherNodes: string[];
  disks: Disk[];
  compressions: string[];
  onCreated: () => void;
}) {
  const [c, setChoices] = useState<Choices>({
    name: '',
    layout: 'raidz2',
    width: 0,
    roles: {},
    compression: '',
    mountpoint: '',
    force: false,
    also: [],
    counts: { data: 0, log: 0, cache: 0, special: 0, spares: 0 },
  });
  const nodes = [node, ...c.also];
  const [plans, setPlans] = useState<PlanOnNode[] | null>(null);
  const [failed, setFailed] = useState<{ node: string; error: string }[]>([]);
  const [previewed, setPreviewed] = useState(false);
  const preview = useAction();
  const create = useAction();
  const body = requestOf(c);
  const key = JSON.stringify([nodes, body]);
  const asked = useRef('');
  const runPreview = () => {
    asked.current = key;
    setPreviewed(true);
    void preview.run(async () => {
      const p = await plansOf(nodes, body);
      if (asked.current === key) setPlans(p); // an older answer never replaces a newer question
    });
  };
  // Once previewed, every change asks for a new plan (after a short pause), so what is shown is what runs.
  useEffect(() => {
    if (!previewed) return;
    const t = setTimeout(runPreview, 300);
    return () => clearTimeout(t);
  }, [key]);
  const set = (patch: Partial<Choices>) => {
    setChoices((x) => ({ ...x, ...patch }));
    setPlans(null);
    setFailed([]);
    create.clear();
  };
  const mirrors = c.layout === 'mirror' || c.layout === 'striped-mirrors';
  return (
    <section className="card" aria-labelledby="wizard-title">
      <h2 id="wizard-title">Create a pool</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          runPreview();
        }}
      >
        <label>
          Pool name{' '}
          <input value={c.name} onChange={(e) => set({ name: e.target.value })} required maxLength={255} />
        </label>{' '}
        <label>
          Layout{' '}
          <select value={c.layout} onChange={(e) => set({ layout: e.target.value, width: 0 })}>
            {LAYOUTS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>{' '}
        {mirrors ? (
          <label>
            Disks per mirror{' '}
            <select value={c.width || 2} onChange={(e) => set({ width: Number(e.target.value) })}>
              <option value={2}>2</option>
              <option value={3}>3</option>
            </select>
          </label>
        ) : c.layout.startsWith('raidz') ? (
          <label>
            Disks per vdev{' '}
            <input
              type="number"
              min={0}
              max={64}
              value={c.width}
              onChange={(e) => set({ width: Number(e.target.value) || 0 })}
              aria-describedby="width-help"
            />
            <small id="width-help"> 0 = all data disks in one vdev</small>
          </label>
        ) : null}
        {otherNodes.length > 0 && (
          <fieldset>
            <legend>The same layout also on</legend>
            {otherNodes.map((n) => (
              <label key={n}>
                <input
                  type="checkbox"
                  checked={c.also.includes(n)}
                  onChange={(e) =>
                    set({ also: e.target.checked ? [...c.also, n].sort() : c.also.filter((x) => x !== n) })
                  }
                />{' '}
                {n}{' '}
              </label>
            ))}
          </fieldset>
        )}
        {c.also.length > 0 ? (
          <fieldset>
            <legend>Disks on each node, by role and count</legend>
            {COUNTS.map(([role, label, help]) => (
              <label key={role}>
                {label}{' '}
                <input
                  type="number"
                  min={0}
                  max={256}
                  value={c.counts[role]}
                  onChange={(e) => set({ counts: { ...c.counts, [role]: Number(e.target.value) || 0 } })}
                />
                {help && <small> {help}</small>}{' '}
              </label>
            ))}
          </fieldset>
        ) : (
          <fieldset>
            <legend>Disks</legend>
            <table className="table">
              <thead>
                <tr>
                  <th>Disk</th>
                  <th>Size</th>
                  <th>Media</th>
                  <th>Use as</th>
                </tr>
              </thead>
              <tbody>
                {disks.map((d) => (
                  <tr key={d.path}>
                    <td>
                      {d.path}
                      {d.inUse ? ` — in use: ${d.inUse}` : ''}
                    </td>
                    <td>{bytes(d.sizeBytes)}</td>
                    <td>{d.media}</td>
                    <td>
                      <select
                        aria-label={`Use ${d.path} as`}
                        value={c.roles[d.path] ?? ''}
                        onChange={(e) => set({ roles: { ...c.roles, [d.path]: e.target.value as Role } })}
                      >
                        {ROLES.map(([value, label]) => (
                          <option key={value} value={value}>
                            {label}
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </fieldset>
        )}
        <fieldset>
          <legend>Options</legend>
          <label>
            Compression{' '}
            <select value={c.compression} onChange={(e) => set({ compression: e.target.value })}>
              <option value="">default (lz4 where supported, else on)</option>
              {compressions.map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          </label>{' '}
          <label>
            Mountpoint{' '}
            <input
              value={c.mountpoint}
              placeholder={`/${c.name || 'pool'}`}
              onChange={(e) => set({ mountpoint: e.target.value })}
              maxLength={255}
            />
          </label>{' '}
          <label>
            <input type="checkbox" checked={c.force} onChange={(e) => set({ force: e.target.checked })} />{' '}
            Overwrite disks that hold data (-f)
          </label>
        </fieldset>
        <button type="submit" disabled={preview.busy}>
          Preview
        </button>
      </form>
      <ErrorMessage error={preview.error} title="This pool cannot be created as asked." />
      {plans?.map((p) => (
        <div key={p.node}>
          {plans.length > 1 && <h3>{p.node}</h3>}
          <PoolPlanView {...p} />
        </div>
      ))}
      {plans && (
        <>
          <button
            type="button"
            disabled={create.busy || preview.busy}
            onClick={() =>
              void create.run(async () => {
                const results =
                  nodes.length === 1
                    ? [
                        await call('createPool', {
                          params: { node },
                          body: { pool: body as any, confirm: true },
                        }),
                      ]
                    : (await call('createPools', { body: { nodes, pool: body as any, confirm: true } }))
                        .nodes;
                setFailed(
                  results.flatMap((r, i) =>
                    'error' in r && r.error ? [{ node: nodes[i], error: String(r.error) }] : [],
                  ),
                );
                setPlans(null);
                setPreviewed(false);
                setChoices((x) => ({ ...x, name: '', roles: {}, mountpoint: '', force: false }));
                onCreated();
              })
            }
          >
            {nodes.length > 1 ? `Create pool on ${nodes.length} nodes` : 'Create pool'}
          </button>
          <ErrorMessage error={create.error} title="Creating the pool failed." />
        </>
      )}
      {failed.map((f) => (
        <p key={f.node} role="alert" className="error-message">
          Creating the pool on {f.node} failed: {f.error}
        </p>
      ))}
    </section>
  );
}
