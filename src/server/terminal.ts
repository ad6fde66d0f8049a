import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from '@fastify/websocket';
import type { ClientChannel } from 'ssh2';
import type { Services } from './services.ts';
import { sendError } from './errors.ts';
import { DomainError } from '../domain/errors.ts';

/** Where the web terminal connects: GET (WebSocket upgrade) /api/nodes/:name/terminal?cols=&rows= */
export const TERMINAL_PATH = '/api/nodes/:name/terminal';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_MESSAGE = 64 * 1024;

/** A client message: keystrokes, or a new terminal size. */
export type TerminalMessage =
  { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number };

function clampSize(v: unknown, fallback: number, max: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

function parseMessage(raw: string): TerminalMessage | null {
  try {
    const m = JSON.parse(raw) as Record<string, unknown>;
    if (m.type === 'input' && typeof m.data === 'string') return { type: 'input', data: m.data };
    if (m.type === 'resize')
      return { type: 'resize', cols: clampSize(m.cols, 80, 1000), rows: clampSize(m.rows, 24, 500) };
  } catch {
    // not JSON: ignored below
  }
  return null;
}

/**
 * Cookies ride on WebSocket upgrades, and browsers do not apply CORS to them: a session-authenticated
 * upgrade must come from a page of this very origin (cross-site WebSocket hijacking otherwise).
 * (Also used by Buildbot's UI's WebSocket.)
 */
export async function checkOrigin(req: FastifyRequest, reply: FastifyReply) {
  if (req.principal?.via !== 'session') return;
  const origin = req.headers.origin;
  let host: string;
  try {
    host = origin ? new URL(origin).host : '';
  } catch {
    host = '';
  }
  if (!host || host !== req.headers.host)
    return sendError(reply, 403, 'forbidden', 'the terminal only accepts connections from grim’s own pages');
}

/**
 * The web terminal: a WebSocket bridged to an SSH shell with a pty on the node. Admins only (the
 * role hook refuses everyone else before the upgrade); the session's start and end are audited.
 * Server to client: binary frames of terminal output, then one JSON text frame {type:'exit'|'error'}.
 */
export async function registerTerminal(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_MESSAGE } });
  app.get(
    TERMINAL_PATH,
    { websocket: true, config: { role: 'admin' }, schema: { hide: true }, preValidation: checkOrigin },
    (socket: WebSocket, req: FastifyRequest) => void bridge(socket, req, services),
  );
}

async function bridge(socket: WebSocket, req: FastifyRequest, services: Services) {
  const { name } = req.params as { name: string };
  const q = req.query as Record<string, string | undefined>;
  const who = req.principal!;
  const base = {
    actor: who.username,
    actorKind: who.via === 'token' ? ('token' as const) : ('user' as const),
    target: name,
    ip: req.ip,
  };
  const fail = (message: string) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'error', message }));
    socket.close(1011, 'terminal failed');
  };
  // Messages that arrive while the shell is opening are kept, in order.
  const early: string[] = [];
  const onEarly = (d: Buffer) => early.push(d.toString('utf8'));
  socket.on('message', onEarly);

  let stream: ClientChannel;
  try {
    if (!NAME.test(name)) throw new DomainError('invalid', `bad node name ${JSON.stringify(name)}`);
    const node = await services.nodes.get(name);
    stream = await services.pool.shell(
      {
        nodeId: node.name,
        address: node.address,
        port: node.port,
        user: node.user,
        hostKeyFingerprint: node.hostKeyFingerprint,
      },
      { cols: clampSize(q.cols, 80, 1000), rows: clampSize(q.rows, 24, 500) },
    );
  } catch (err) {
    const message = (err as Error).message;
    await services.audit.record({
      ...base,
      action: 'terminal.start',
      outcome: 'failure',
      details: { error: message },
    });
    return fail(`cannot open a shell on ${name}: ${message}`);
  }
  const started = Date.now();
  await services.audit.record({ ...base, action: 'terminal.start', outcome: 'success' });

  let ended = false;
  const end = async (reason: string) => {
    if (ended) return;
    ended = true;
    stream.end();
    stream.destroy();
    if (socket.readyState === socket.OPEN) {
      socket.send(JSON.stringify({ type: 'exit', reason }));
      socket.close(1000, 'shell ended');
    }
    await services.audit.record({
      ...base,
      action: 'terminal.end',
      outcome: 'success',
      details: { durationMs: Date.now() - started, reason },
    });
  };

  const handle = (raw: string) => {
    const m = parseMessage(raw);
    if (m?.type === 'input') stream.write(m.data);
    else if (m?.type === 'resize') stream.setWindow(m.rows, m.cols, 0, 0);
  };
  socket.off('message', onEarly);
  for (const m of early) handle(m);
  socket.on('message', (d: Buffer) => handle(d.toString('utf8')));
  stream.on('data', (d: Buffer) => socket.readyState === socket.OPEN && socket.send(d));
  stream.stderr.on('data', (d: Buffer) => socket.readyState === socket.OPEN && socket.send(d));
  stream.on('close', () => void end('the shell exited'));
  stream.on('error', () => void end('the SSH channel failed'));
  socket.on('close', () => void end('the browser closed the terminal'));
  if (socket.readyState !== socket.OPEN) void end('the browser closed the terminal');
}
