// What test/integration/pipelines.test.ts shares with its scenarios: the lab repository, commits, waiting.
import { existsSync, readdirSync } from 'node:fs';
import { signWebhook } from '../../src/domain/webhooks.ts';
import type { WebhookProvider } from '../../src/domain/pipelines.ts';
import { eventually as pollUntil } from '../helpers/apps-lab.ts';

export const VENV = process.env.GRIM_BUILDBOT_VENV || '/opt/grim-venv';
export const ALPINE =
  process.env.GRIM_ALPINE_ROOTFS ?? '/work/shared/fixtures/alpine/alpine-minirootfs-3.20.3-x86_64.tar.gz';

/** What the tarball part (a qemu-microvm app under TCG) needs; undefined when everything is there. */
export function vmMissing(): string | undefined {
  const k = existsSync('/boot') ? readdirSync('/boot').find((f) => f.startsWith('vmlinuz-')) : undefined;
  if (!k) return 'no /boot/vmlinuz-* (apt-get install linux-image-amd64)';
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed';
  if (!existsSync(ALPINE)) return `Alpine minirootfs not found at ${ALPINE} (GRIM_ALPINE_ROOTFS)`;
  return undefined;
}

const DOCKERFILE = `FROM scratch
ARG GREETING=none
COPY rootfs/ /
COPY index.html /www/index.html
CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
`;

/** The repository on lab node 1: a bare repo under /srv/git served by git daemon, and a work tree to commit in. */
export const SETUP_REPO = (addr: string) => `set -e
mkdir -p /srv/git /srv/work/rootfs/bin /srv/work/rootfs/etc /srv/work/rootfs/tmp
git init -q --bare -b main /srv/git/web.git
cd /srv/work && git init -q -b main
cp /usr/bin/busybox rootfs/bin/busybox
printf 'root:x:0:0:root:/:/bin/busybox\\n' > rootfs/etc/passwd
touch rootfs/tmp/.keep
cat > Dockerfile <<'EOF'
${DOCKERFILE}EOF
printf '#!/bin/sh\\ngrep -q hello index.html\\n' > test.sh
echo 'hello v1' > index.html
git add -A && git -c user.name=t -c user.email=t@lab commit -qm v1
git remote add origin /srv/git/web.git && git push -q origin main
git daemon --detach --reuseaddr --export-all --base-path=/srv/git --listen=${addr} --pid-file=/run/gitd.pid /srv/git
for i in $(seq 50); do git ls-remote git://${addr}/web.git >/dev/null 2>&1 && break; sleep 0.1; done
git ls-remote git://${addr}/web.git >/dev/null`;

/** Commits a change on a branch of the lab repository and pushes it; prints the commit id. */
export const COMMIT = (branch: string, change: string, message: string) => `set -e
cd /srv/work && git checkout -q -B ${branch} >/dev/null 2>&1
${change}
git add -A && git -c user.name=t -c user.email=t@lab commit -qm '${message}'
git push -q -f origin ${branch}
git rev-parse HEAD`;

export const eventually = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 180_000) =>
  pollUntil(what, fn, ms);

/** Posts a push delivery the way `provider` does (its event, delivery id and signature or token headers). */
export async function deliverWebhook(
  url: string,
  provider: WebhookProvider,
  secret: string,
  body: Buffer,
  delivery: string,
): Promise<number> {
  const event: Record<string, string> =
    provider === 'github'
      ? { 'x-github-event': 'push', 'x-github-delivery': delivery }
      : provider === 'gitea'
        ? { 'x-gitea-event': 'push', 'x-gitea-delivery': delivery }
        : { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': delivery };
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...event, ...signWebhook(provider, secret, body) },
    body: new Uint8Array(body),
  });
  await r.arrayBuffer();
  return r.status;
}
