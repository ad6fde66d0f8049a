import { useState } from 'react';
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

type Plan = Awaited<ReturnType<typeof planOf>>;
const planOf = (node: string, body: any) => call('planPool', { params: { node }, body });

/**
 * The pool wizard: pick the name, layout and disks; grim shows the usable capacity, how many disks
 * may fail, its warnings and the exact `zpool create` command. Nothing runs until "Create pool".
 */
export function PoolWizard({
  node,
  disks,
  onCreated,
}: {
  node: string;
  disks: Disk[];
  onCreated: () => void;
}) {
  const [name, setName] = useState('');
  const [layout, setLayout] = useState('raidz2');
  const [width, setWidth] = useState(2);
  const [picked, setPicked] = useState<string[]>([]);
  const [plan, setPlan] = useState<Plan | null>(null);
  const preview = useAction();
  const create = useAction();
  const body = () => ({
    name,
    layout: layout as any,
    disks: picked,
    ...(layout === 'mirror' || layout === 'striped-mirrors' ? { width } : {}),
  });
  const changed = () => {
    setPlan(null);
    create.clear();
  };
  const toggle = (path: string) => {
    setPicked((p) => (p.includes(path) ? p.filter((x) => x !== path) : [...p, path]));
    changed();
  };
  return (
    <section className="card" aria-labelledby="wizard-title">
      <h2 id="wizard-title">Create a pool</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void preview.run(async () => setPlan(await planOf(node, body())));
        }}
      >
        <label>
          Pool name{' '}
          <input
            value={name}
            onChange={(e) => (setName(e.target.value), changed())}
            required
            maxLength={255}
          />
        </label>{' '}
        <label>
          Layout{' '}
          <select value={layout} onChange={(e) => (setLayout(e.target.value), changed())}>
            {LAYOUTS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>{' '}
        {(layout === 'mirror' || layout === 'striped-mirrors') && (
          <label>
            Disks per mirror{' '}
            <select value={width} onChange={(e) => (setWidth(Number(e.target.value)), changed())}>
              <option value={2}>2</option>
              <option value={3}>3</option>
            </select>
          </label>
        )}
        <fieldset>
          <legend>Disks</legend>
          {disks.map((d) => (
            <label key={d.path} className="disk-choice">
              <input type="checkbox" checked={picked.includes(d.path)} onChange={() => toggle(d.path)} />{' '}
              {d.path} ({bytes(d.sizeBytes)}, {d.media}){d.inUse ? ` — in use: ${d.inUse}` : ''}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={preview.busy}>
          Preview
        </button>
      </form>
      <ErrorMessage error={preview.error} title="This pool cannot be created as asked." />
      {plan && (
        <div className="plan" aria-label="Pool plan">
          <p>
            Usable capacity: <strong>{bytes(plan.usableBytes)}</strong> ({plan.usableBytes} bytes;{' '}
            {bytes(plan.rawBytes)} raw)
          </p>
          <p>May fail: {plan.faultTolerance.description}</p>
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
          <button
            type="button"
            disabled={create.busy}
            onClick={() =>
              void create.run(async () => {
                await call('createPool', { params: { node }, body: { pool: body(), confirm: true } });
                setPlan(null);
                setPicked([]);
                setName('');
                onCreated();
              })
            }
          >
            Create pool
          </button>
          <ErrorMessage error={create.error} title="Creating the pool failed." />
        </div>
      )}
    </section>
  );
}
