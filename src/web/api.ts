import { ApiError, createClient, type Client } from '../api/client.ts';
import { routes } from '../api/index.ts';

export { ApiError };

/** The one API client of the page: same origin, cookies sent by the browser, CSRF header after login. */
export const client = createClient({ baseUrl: '' });

const unauthenticatedListeners = new Set<() => void>();

/** Called when the server says the session is gone (expired or logged out elsewhere). */
export function onUnauthenticated(fn: () => void): () => void {
  unauthenticatedListeners.add(fn);
  return () => unauthenticatedListeners.delete(fn);
}

/** client.call, plus: a 401 on anything but login ends the session in the UI. */
export const call = (async (op: string, input?: unknown, signal?: AbortSignal) => {
  try {
    return await (client.call as (o: string, i?: unknown, s?: AbortSignal) => Promise<unknown>)(
      op,
      input,
      signal,
    );
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && op !== 'login' && op !== 'whoami')
      for (const fn of unauthenticatedListeners) fn();
    throw err;
  }
}) as Client['call'];

/** Whether this build's route table has an operation (pages light up as the API grows). */
export function hasOperation(op: string): boolean {
  return Object.hasOwn(routes, op);
}

/** Calls an operation that may not be in this build's route table; undefined when it is not. */
export async function callOptional(op: string, input?: unknown, signal?: AbortSignal): Promise<unknown> {
  if (!hasOperation(op)) return undefined;
  return (call as (o: string, i?: unknown, s?: AbortSignal) => Promise<unknown>)(op, input, signal);
}
