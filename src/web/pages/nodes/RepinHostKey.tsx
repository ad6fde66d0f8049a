import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import type { NodeView } from '../../types.ts';

/**
 * The node's host key changed (reinstall, or an attack): grim refuses to talk to it. An admin fetches
 * the key it presents now, checks it on the node's console, and only then pins it.
 */
export function RepinHostKey({ node, onDone }: { node: NodeView; onDone(n: NodeView): void }) {
  const [scan, setScan] = useState<{ fingerprint: string; keyType: string } | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const act = useAction();
  const fetchKey = async () => {
    setConfirmed(false);
    const r = await act.run(() => call('scanHostKey', { body: { address: node.address, port: node.port } }));
    if (r) setScan(r);
  };
  const pin = async () => {
    if (!scan) return;
    const r = await act.run(() =>
      call('repinHostKey', { params: { name: node.name }, body: { fingerprint: scan.fingerprint } }),
    );
    if (r) onDone(r.node);
  };
  return (
    <section className="panel panel-warn" aria-labelledby="repin-title">
      <h2 id="repin-title">The host key changed</h2>
      <p>
        grim pinned <code>{node.hostKeyFingerprint}</code> and will not connect while the node presents
        another key. Re-pin only after checking the new key on the node itself.
      </p>
      <button type="button" className="button" onClick={fetchKey} disabled={act.busy}>
        Fetch the key it presents now
      </button>
      {scan && (
        <>
          <p>
            It now presents (<code>{scan.keyType}</code>):
          </p>
          <p className="fingerprint" aria-label="New host key fingerprint">
            {scan.fingerprint}
          </p>
          <label className="check">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
            <span>
              I ran <code>ssh-keygen -lf</code> on the node’s host key: it shows this fingerprint
            </span>
          </label>
          <button
            type="button"
            className="button button-danger"
            disabled={!confirmed || act.busy}
            onClick={pin}
          >
            Pin the new host key
          </button>
        </>
      )}
      <ErrorMessage error={act.error} title="Re-pinning failed." />
    </section>
  );
}
