import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab } from '../helpers/lab.ts';
import { startGrimServer } from '../helpers/grim-process.ts';
import { api, loginSession, upgradeStatus, type HttpSession } from './http-session.ts';
import { addLabNodesByApi } from './lab-nodes.ts';

const ADMIN_PASSWORD = 'admin-password-123';

/** A terminal session as a browser would hold it: everything received so far, and a way to type. */
function openTerminal(s: HttpSession, node: string, origin: string) {
  const url = `${s.url.replace(/^http/, 'ws')}/api/nodes/${node}/terminal?cols=80&rows=24`;
  // Node's WebSocket (undici) takes extra handshake headers; a browser sends the cookie and Origin itself.
  const ws = new (WebSocket as any)(url, { headers: { cookie: s.cookie, origin } }) as WebSocket;
  ws.binaryType = 'arraybuffer';
  const state = { output: '', control: [] as any[], closed: false };
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') state.control.push(JSON.parse(e.data));
    else state.output += Buffer.from(e.data as ArrayBuffer).toString('utf8');
  };
  ws.onclose = () => (state.closed = true);
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('the terminal WebSocket failed to open'));
  });
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!re.test(state.output)) {
      if (Date.now() > end) throw new Error(`no ${re} in terminal output within ${ms} ms:\n${state.output}`);
      if (state.closed)
        throw new Error(`terminal closed before ${re}: ${JSON.stringify(state.control)}\n${state.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const send = (msg: unknown) => ws.send(JSON.stringify(msg));
  return { ws, state, opened, waitFor, send };
}

async function waitAudit(s: HttpSession, action: string, ms = 10_000): Promise<any[]> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api(s, 'GET', `/api/audit?action=${action}`);
    if (r.entries.length) return r.entries;
    if (Date.now() > end) throw new Error(`no ${action} audit entry within ${ms} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

test(
  'web terminal: admin-only WebSocket to a pty, origin-checked, resizable, audited',
  { timeout: 240_000 },
  async (t) => {
    const lab = await withLab(t, { nodes: 1, os: 'debian' });
    if (!lab) return;
    const server = await startGrimServer({ GRIM_ADMIN_PASSWORD: ADMIN_PASSWORD });
    t.after(() => server.stop());
    const admin = await loginSession(server.url, 'admin', ADMIN_PASSWORD);
    await addLabNodesByApi(admin, lab, 'lab');
    for (const role of ['viewer', 'operator'])
      await api(admin, 'POST', '/api/users', {
        username: `${role}1`,
        password: `${role}-password-123`,
        role,
      });
    const viewer = await loginSession(server.url, 'viewer1', 'viewer-password-123');
    const operator = await loginSession(server.url, 'operator1', 'operator-password-123');
    const path = '/api/nodes/n1/terminal';
    const origin = server.url;

    await t.test('the upgrade is refused without a session, for a viewer and for an operator', async () => {
      assert.equal((await upgradeStatus(server.url, path, { origin })).status, 401);
      for (const s of [viewer, operator]) {
        const r = await upgradeStatus(server.url, path, { cookie: s.cookie, origin });
        assert.equal(r.status, 403, r.body);
        assert.match(r.body, /needs role admin/);
      }
    });

    await t.test('an admin session is refused from another origin, or with no Origin at all', async () => {
      for (const o of ['http://evil.example', undefined]) {
        const r = await upgradeStatus(server.url, path, {
          cookie: admin.cookie,
          ...(o ? { origin: o } : {}),
        });
        assert.equal(r.status, 403, `origin ${o}: ${r.body}`);
        assert.match(r.body, /grim’s own pages/);
      }
    });

    await t.test('an admin gets a shell on the node, can resize it, and the session is audited', async () => {
      const term = openTerminal(admin, 'n1', origin);
      await term.opened;
      term.send({ type: 'input', data: 'echo "host=$(hostname)"\n' });
      await term.waitFor(/host=n1/);
      term.send({ type: 'resize', cols: 123, rows: 45 });
      term.send({ type: 'input', data: 'echo "size=$(stty size)"\n' });
      await term.waitFor(/size=45 123/);
      term.send({ type: 'input', data: 'exit\n' });
      const end = Date.now() + 10_000;
      while (!term.state.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.ok(term.state.closed, 'the socket closes when the shell exits');
      assert.equal(term.state.control.at(-1)?.type, 'exit');
      const [start] = await waitAudit(admin, 'terminal.start');
      assert.equal(start.target, 'n1');
      assert.equal(start.actor, 'admin');
      assert.equal(start.outcome, 'success');
      const [ended] = await waitAudit(admin, 'terminal.end');
      assert.equal(ended.target, 'n1');
      assert.equal(ended.actor, 'admin');
      assert.ok(
        Number.isInteger(ended.details.durationMs) && ended.details.durationMs >= 0,
        JSON.stringify(ended),
      );
    });

    await t.test('a shell on an unknown node fails with a message, and the failure is audited', async () => {
      const term = openTerminal(admin, 'nope', origin);
      await term.opened;
      const end = Date.now() + 10_000;
      while (!term.state.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(term.state.control[0]?.type, 'error');
      assert.match(term.state.control[0].message, /node nope not found/);
      const entries = await waitAudit(admin, 'terminal.start');
      assert.ok(entries.some((e) => e.target === 'nope' && e.outcome === 'failure'));
    });
  },
);
