import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { Link } from '../../router.tsx';
import { useCan } from '../../session.tsx';
import { Page } from '../../components/Page.tsx';
import type { PageProps } from '../registry.ts';
import { withAdoptedStyles } from './csp-styles.ts';

type Status =
  { kind: 'connecting' } | { kind: 'open' } | { kind: 'closed'; message: string; failed: boolean };

const FONT_SIZE = 14;

/** Columns and rows that fit the box, from the size of a measured run of monospace characters. */
function fit(box: HTMLElement, measure: HTMLElement): { cols: number; rows: number } {
  const r = measure.getBoundingClientRect();
  const cellW = r.width / 50 || 8;
  const cellH = r.height || 17;
  return {
    cols: Math.max(20, Math.floor((box.clientWidth - 12) / cellW)),
    rows: Math.max(8, Math.floor((box.clientHeight - 12) / cellH)),
  };
}

/** An interactive shell on a node (admins only; the server checks too and audits the session). */
export function TerminalPage({ params }: PageProps) {
  const isAdmin = useCan('admin');
  const box = useRef<HTMLDivElement>(null);
  const measure = useRef<HTMLSpanElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'connecting' });
  const [attempt, setAttempt] = useState(0);
  const node = params.name;

  useEffect(() => {
    const el = box.current;
    const m = measure.current;
    if (!isAdmin || !el || !m) return;
    setStatus({ kind: 'connecting' });
    const size = fit(el, m);
    const { result: term, dispose: dropStyles } = withAdoptedStyles(() => {
      const t = new Terminal({
        cols: size.cols,
        rows: size.rows,
        fontSize: FONT_SIZE,
        fontFamily: 'monospace',
        cursorBlink: true,
      });
      t.open(el);
      return t;
    });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(
      `${scheme}://${location.host}/api/nodes/${encodeURIComponent(node)}/terminal?cols=${size.cols}&rows=${size.rows}`,
    );
    ws.binaryType = 'arraybuffer';
    const send = (msg: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(msg));
    let ended = false;
    ws.onopen = () => {
      setStatus({ kind: 'open' });
      term.focus();
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data !== 'string') return term.write(new Uint8Array(e.data));
      const msg = JSON.parse(e.data) as { type: string; message?: string; reason?: string };
      ended = true;
      setStatus({
        kind: 'closed',
        failed: msg.type === 'error',
        message: msg.message ?? msg.reason ?? 'The session ended.',
      });
    };
    ws.onclose = (e) => {
      if (ended) return;
      setStatus({
        kind: 'closed',
        failed: true,
        message:
          e.code === 1006
            ? 'The server refused or dropped the connection (are you still logged in as an admin?).'
            : `Connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''}).`,
      });
    };
    const input = term.onData((data) => send({ type: 'input', data }));
    const onResize = () => {
      const s = fit(el, m);
      if (s.cols === term.cols && s.rows === term.rows) return;
      term.resize(s.cols, s.rows);
      send({ type: 'resize', cols: s.cols, rows: s.rows });
    };
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      input.dispose();
      ws.close();
      term.dispose();
      dropStyles();
    };
  }, [node, isAdmin, attempt]);

  if (!isAdmin)
    return (
      <Page title={`Terminal on ${node}`}>
        <p className="notice">Only admins open terminals on nodes.</p>
      </Page>
    );
  return (
    <Page
      title={`Terminal on ${node}`}
      actions={<Link to={`/nodes/${encodeURIComponent(node)}`}>Back to {node}</Link>}
    >
      <p className="terminal-status" role="status" data-status={status.kind}>
        {status.kind === 'connecting' && `Connecting to ${node}…`}
        {status.kind === 'open' && `Connected to ${node}. This session is audited.`}
        {status.kind === 'closed' && status.message}
      </p>
      {status.kind === 'closed' && (
        <button type="button" className="button" onClick={() => setAttempt((n) => n + 1)}>
          Reconnect
        </button>
      )}
      <div className="terminal-box" ref={box} aria-label={`Shell on ${node}`}>
        <span className="terminal-measure" ref={measure} aria-hidden="true">
          {'W'.repeat(50)}
        </span>
      </div>
    </Page>
  );
}
