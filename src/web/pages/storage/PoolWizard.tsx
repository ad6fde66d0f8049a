import { useEffect, useRef, useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { bytes, type Disk } from './storage-types.ts';

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

type Plan = Awaited<ReturnType<typeof planOf>>;
const planOf = (node: string, body: any) => call('planPool', { params: { node }, body });

interface Choices {
  name: string;
  layout: string;
  width: number;
  roles: Record<string, Role>;
  compression: string;
  mountpoint: string;
  force: boolean;
}

/** The pool request the API takes, from what the form holds. */
function requestOf(c: Choices) {
  const byRole = (role: Role) =>
    Object.entries(c.roles)
      .filter(([, r]) => r === role)
      .map(([path]) => path);
  const req: Record<string, unknown> = { name: c.name, layout: c.layout, disks: byRole('data') };
  if (c.layout === 'mirror' || c.layout === 'striped-mirrors') req.width = c.width || 2;
  else if (c.layout.startsWith('raidz') && c.width > 0) req.width = c.width;
  for (const role of ['log', 'cache', 'special', 'spares'] as const)
    if (byRole(role).length) req[role] = byRole(role);
  if (c.compression) req.compression = c.compression;
  if (c.mountpoint) req.mountpoint = c.mountpoint;
  if (c.force) req.force = true;
  return req;
}

/**
 * The pool wizard: name, layout, a role for each disk (data, log, cache, special, spare) and the pool's
 * options; grim shows the usable capacity, how many disks may fail, its warnings and the exact
 * `zpool create` command, and the plan follows every change once previewed. Nothing runs until "Create pool".
 */
export function PoolWizard({
  node,
  disks,
  compressions,
  onCreated,
}: {
  node: string;
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
  });
  const [plan, setPlan] = useState<Plan | null>(null);
  const [previewed, setPreviewed] = useState(false);
  const preview = useAction();
  const create = useAction();
  const body = requestOf(c);
  const key = JSON.stringify(body);
  const asked = useRef('');
  const runPreview = () => {
    asked.current = key;
    setPreviewed(true);
    void preview.run(async () => {
      const p = await planOf(node, body);
      if (asked.current === key) setPlan(p); // an older answer never replaces a newer question
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
    setPlan(null);
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
      {plan && <PlanView node={node} plan={plan} />}
      {plan && (
        <>
          <button
            type="button"
            disabled={create.busy || preview.busy}
            onClick={() =>
              void create.run(async () => {
                await call('createPool', { params: { node }, body: { pool: body as any, confirm: true } });
                setPlan(null);
                setPreviewed(false);
                setChoices((x) => ({ ...x, name: '', roles: {}, mountpoint: '', force: false }));
                onCreated();
              })
            }
          >
            Create pool
          </button>
          <ErrorMessage error={create.error} title="Creating the pool failed." />
        </>
      )}
    </section>
  );
}

function PlanView({ node, plan }: { node: string; plan: Plan }) {
  return (
    <div className="plan" aria-label="Pool plan">
      <p>
        Usable capacity: <strong>{bytes(plan.usableBytes)}</strong> ({plan.usableBytes} bytes;{' '}
        {bytes(plan.rawBytes)} raw)
      </p>
      <p>May fail: {plan.faultTolerance.description}</p>
      <ul aria-label="Vdevs">
        {plan.vdevs.map((v, i) => (
          <li key={i}>
            {v.kind}: {v.disks.join(', ')}
          </li>
        ))}
      </ul>
      {plan.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {plan.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <p>grim will run on {node}:</p>
      <pre className="command" aria-label="Command">
        {plan.commandLine}
      </pre>
    </div>
  );
}
