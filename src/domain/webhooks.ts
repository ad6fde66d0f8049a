/**
 * Verifying push webhooks from GitHub, Gitea and GitLab before anything is built: the provider's signature or
 * token over the exact bytes received (constant-time compare), the delivery id used to refuse replays, and the
 * pushed branch and commit. Pure: headers in, verdict out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { branchOfRef, isCommitId, type WebhookProvider } from './pipelines.ts';

export type Headers = Record<string, string | string[] | undefined>;

export type WebhookVerdict =
  | { ok: true; delivery: string; event: string; branch: string | null; commit: string | null }
  | { ok: false; reason: string; delivery: string | null };

const header = (h: Headers, name: string): string | null => {
  const v = h[name.toLowerCase()];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
};

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hmacHex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

/** The provider's delivery id header (unique per delivery; a redelivery from the provider UI gets a new one). */
export function deliveryId(provider: WebhookProvider, h: Headers): string | null {
  const v =
    provider === 'github'
      ? header(h, 'x-github-delivery')
      : provider === 'gitea'
        ? header(h, 'x-gitea-delivery')
        : (header(h, 'x-gitlab-event-uuid') ?? header(h, 'x-gitlab-webhook-uuid'));
  return v && /^[A-Za-z0-9._-]{1,128}$/.test(v) ? v : null;
}

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; Gitea: `X-Gitea-Signature: <hex>`
 * (same HMAC); GitLab: `X-Gitlab-Token: <the secret>` (no signature; compared in constant time).
 */
export function verifyWebhook(
  provider: WebhookProvider,
  secret: string,
  h: Headers,
  body: Buffer,
): WebhookVerdict {
  const delivery = deliveryId(provider, h);
  let signed: boolean;
  if (provider === 'github') {
    const sig = header(h, 'x-hub-signature-256');
    signed = !!sig && equal(sig, `sha256=${hmacHex(secret, body)}`);
  } else if (provider === 'gitea') {
    const sig = header(h, 'x-gitea-signature');
    signed = !!sig && equal(sig, hmacHex(secret, body));
  } else {
    const token = header(h, 'x-gitlab-token');
    signed = !!token && equal(token, secret);
  }
  if (!signed) return { ok: false, reason: 'signature or token does not match', delivery };
  if (!delivery) return { ok: false, reason: 'no delivery id header', delivery: null };
  const event =
    header(
      h,
      provider === 'github' ? 'x-github-event' : provider === 'gitea' ? 'x-gitea-event' : 'x-gitlab-event',
    ) ?? '';
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'body is not JSON', delivery };
  }
  const isPush = provider === 'gitlab' ? event === 'Push Hook' : event === 'push';
  if (!isPush) return { ok: true, delivery, event, branch: null, commit: null };
  const commit = payload.after ?? payload.checkout_sha;
  return {
    ok: true,
    delivery,
    event,
    branch: branchOfRef(payload.ref),
    commit: isCommitId(commit) && !/^0+$/.test(commit) ? commit : null,
  };
}

/** How a provider signs a body (used by tests and by `grim pipeline webhook-test`). */
export function signWebhook(provider: WebhookProvider, secret: string, body: Buffer): Record<string, string> {
  if (provider === 'github') return { 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}` };
  if (provider === 'gitea') return { 'x-gitea-signature': hmacHex(secret, body) };
  return { 'x-gitlab-token': secret };
}
