import { useState, type FormEvent } from 'react';
import { call } from '../../api.ts';
import { navigate, Link } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { useAction, useQuery } from '../../use-query.ts';
import { Page } from '../../components/Page.tsx';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { parseLabels } from './parse-labels.ts';

type Scan = { fingerprint: string; keyType: string; publicKey: string };
const NEW_ENV = '__new__';

/** Which host key file `ssh-keygen -lf` should read on the node to show the same fingerprint. */
function keyFile(keyType: string): string {
  const kind = keyType.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa');
  return `/etc/ssh/ssh_host_${kind}_key.pub`;
}

/**
 * Adding a node is trust on first use done by a person: fetch the host key, compare its fingerprint
 * with the one the node itself shows, confirm, then give a one-time credential so grim can install
 * its own key. The credential is sent once and never stored.
 */
export function AddNodePage() {
  const isAdmin = useCan('admin');
  const envs = useQuery((signal) => call('listEnvironments', {}, signal), []);
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('22');
  const [scan, setScan] = useState<Scan | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [name, setName] = useState('');
  const [env, setEnv] = useState('');
  const [newEnv, setNewEnv] = useState('');
  const [user, setUser] = useState('root');
  const [credKind, setCredKind] = useState<'password' | 'privateKey' | 'none'>('password');
  const [password, setPassword] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [labelText, setLabelText] = useState('');
  const scanning = useAction();
  const creating = useAction();

  if (!isAdmin)
    return (
      <Page title="Add a node">
        <p className="notice">Only admins add nodes.</p>
      </Page>
    );

  const envList = envs.data?.environments ?? [];
  const chosenEnv = env || envList[0]?.name || NEW_ENV;
  const resetScan = () => {
    setScan(null);
    setConfirmed(false);
  };

  const fetchKey = async (e: FormEvent) => {
    e.preventDefault();
    resetScan();
    const r = await scanning.run(() =>
      call('scanHostKey', { body: { address: address.trim(), port: Number(port) } }),
    );
    if (r) setScan(r);
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!scan) return;
    const { labels, problems } = parseLabels(labelText);
    const credential =
      credKind === 'password'
        ? { password }
        : credKind === 'privateKey'
          ? { privateKey, ...(passphrase ? { passphrase } : {}) }
          : undefined;
    const r = await creating.run(async () => {
      if (problems.length) throw new Error(`Labels: ${problems.join('; ')}`);
      let environment = chosenEnv;
      if (environment === NEW_ENV) {
        environment = newEnv.trim();
        await call('createEnvironment', { body: { name: environment } });
      }
      return call('createNode', {
        body: {
          name: name.trim(),
          environment,
          address: address.trim(),
          port: Number(port),
          user: user.trim(),
          hostKeyFingerprint: scan.fingerprint,
          labels,
          ...(credential ? { credential } : {}),
        },
      });
    });
    if (r) {
      // Drop the credential from memory as soon as it has been used.
      setPassword('');
      setPrivateKey('');
      setPassphrase('');
      navigate(`/nodes/${encodeURIComponent(r.node.name)}`);
    }
  };

  return (
    <Page title="Add a node" actions={<Link to="/nodes">All nodes</Link>}>
      <section className="panel" aria-labelledby="step-1">
        <h2 id="step-1">1. Where is it?</h2>
        <form className="inline-form" onSubmit={fetchKey} aria-label="Fetch the host key">
          <div className="field">
            <label htmlFor="node-address">Address</label>
            <input
              id="node-address"
              required
              maxLength={253}
              placeholder="10.0.0.5 or node1.example.org"
              value={address}
              onChange={(e) => {
                setAddress(e.target.value);
                resetScan();
              }}
            />
          </div>
          <div className="field field-narrow">
            <label htmlFor="node-port">SSH port</label>
            <input
              id="node-port"
              type="number"
              min={1}
              max={65535}
              required
              value={port}
              onChange={(e) => {
                setPort(e.target.value);
                resetScan();
              }}
            />
          </div>
          <div className="field field-buttons">
            <button type="submit" className="button button-primary" disabled={scanning.busy}>
              {scanning.busy ? 'Fetching…' : 'Fetch host key'}
            </button>
          </div>
          <ErrorMessage error={scanning.error} title="Could not fetch the host key." />
        </form>
      </section>

      {scan && (
        <section className="panel" aria-labelledby="step-2">
          <h2 id="step-2">2. Is it really that node?</h2>
          <p>
            The node at <code>{address}</code> presents this <code>{scan.keyType}</code> host key:
          </p>
          <p className="fingerprint" aria-label="Host key fingerprint">
            {scan.fingerprint}
          </p>
          <p>
            On the node’s own console, run <code>ssh-keygen -lf {keyFile(scan.keyType)}</code> and check that
            it prints the same fingerprint. If it differs, something is between you and the node: do not
            continue.
          </p>
          <label className="check">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
            <span>I compared the fingerprints: they match</span>
          </label>
        </section>
      )}

      {scan && confirmed && (
        <section className="panel" aria-labelledby="step-3">
          <h2 id="step-3">3. Name it and let grim in</h2>
          <form className="stack-form" onSubmit={create} aria-label="Add the node">
            <div className="field">
              <label htmlFor="node-name">Name</label>
              <input
                id="node-name"
                required
                maxLength={63}
                pattern="[a-z0-9][a-z0-9\-]*"
                title="lower-case letters, digits and dashes"
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="node-env">Environment</label>
              <select id="node-env" value={chosenEnv} onChange={(e) => setEnv(e.target.value)}>
                {envList.map((x) => (
                  <option key={x.name} value={x.name}>
                    {x.name}
                  </option>
                ))}
                <option value={NEW_ENV}>New environment…</option>
              </select>
            </div>
            {chosenEnv === NEW_ENV && (
              <div className="field">
                <label htmlFor="node-new-env">New environment name</label>
                <input
                  id="node-new-env"
                  required
                  maxLength={63}
                  value={newEnv}
                  onChange={(e) => setNewEnv(e.target.value)}
                />
              </div>
            )}
            <div className="field">
              <label htmlFor="node-user">SSH user</label>
              <input
                id="node-user"
                required
                maxLength={32}
                value={user}
                onChange={(e) => setUser(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="node-labels">Labels (key=value, comma separated)</label>
              <input
                id="node-labels"
                maxLength={2000}
                value={labelText}
                onChange={(e) => setLabelText(e.target.value)}
              />
            </div>
            <fieldset className="checks">
              <legend>One-time credential (used to install grim’s key, never stored)</legend>
              <label className="check">
                <input
                  type="radio"
                  name="cred"
                  checked={credKind === 'password'}
                  onChange={() => setCredKind('password')}
                />
                <span>Password</span>
              </label>
              <label className="check">
                <input
                  type="radio"
                  name="cred"
                  checked={credKind === 'privateKey'}
                  onChange={() => setCredKind('privateKey')}
                />
                <span>Private key</span>
              </label>
              <label className="check">
                <input
                  type="radio"
                  name="cred"
                  checked={credKind === 'none'}
                  onChange={() => setCredKind('none')}
                />
                <span>None: grim’s key is already installed</span>
              </label>
            </fieldset>
            {credKind === 'password' && (
              <div className="field">
                <label htmlFor="node-password">Password for {user || 'the user'}</label>
                <input
                  id="node-password"
                  type="password"
                  required
                  autoComplete="off"
                  maxLength={1024}
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              </div>
            )}
            {credKind === 'privateKey' && (
              <>
                <div className="field">
                  <label htmlFor="node-key">Private key (OpenSSH or PEM)</label>
                  <textarea
                    id="node-key"
                    required
                    rows={6}
                    spellCheck={false}
                    autoComplete="off"
                    maxLength={16384}
                    value={privateKey}
                    onChange={(e) => setPrivateKey(e.target.value)}
                  />
                </div>
                <div className="field">
                  <label htmlFor="node-passphrase">Key passphrase (if any)</label>
                  <input
                    id="node-passphrase"
                    type="password"
                    autoComplete="off"
                    maxLength={1024}
                    value={passphrase}
                    onChange={(e) => setPassphrase(e.target.value)}
                  />
                </div>
              </>
            )}
            <div className="field-buttons">
              <button type="submit" className="button button-primary" disabled={creating.busy}>
                {creating.busy ? 'Adding… (installing grim’s key, gathering facts)' : 'Add node'}
              </button>
            </div>
            <ErrorMessage error={creating.error} title="The node was not added." />
          </form>
        </section>
      )}
    </Page>
  );
}
