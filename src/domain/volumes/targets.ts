/**
 * Backup targets (where restic repositories live): an S3 endpoint and bucket (the environment's SeaweedFS
 * cluster or any other) or a path on the nodes. Checked strictly: nothing here reaches a shell unquoted, but an
 * endpoint with credentials or a path with ".." is refused anyway, with every problem listed.
 */
export type BackupTargetInput = {
  name: string;
  kind: 's3' | 'path';
  endpoint?: string;
  bucket?: string;
  path?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
};

export type BackupTarget = {
  name: string;
  kind: 's3' | 'path';
  /** What restic's repository URL starts with: s3:<endpoint>/<bucket>, or the path. */
  location: string;
  accessKeyId?: string;
  secretAccessKey?: string;
};

type Problem = { path: string; message: string };

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY = /^[\x21-\x7e]{1,256}$/;

export function checkTargetInput(
  t: BackupTargetInput,
): { ok: true; target: BackupTarget } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!NAME.test(t.name ?? ''))
    problems.push({ path: 'params/name', message: '1 to 32 lowercase letters, digits and "-"' });
  let location = '';
  if (t.kind === 's3') {
    let url: URL | undefined;
    try {
      url = new URL(t.endpoint ?? '');
    } catch {
      problems.push({
        path: 'body/endpoint',
        message: 'an S3 target needs an endpoint URL like http://10.0.0.5:8333',
      });
    }
    if (url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        problems.push({ path: 'body/endpoint', message: 'must be http:// or https://' });
      if (url.username || url.password)
        problems.push({
          path: 'body/endpoint',
          message: 'credentials go in accessKeyId/secretAccessKey, not the URL',
        });
      if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
        problems.push({
          path: 'body/endpoint',
          message: 'must be scheme, host and port only (the bucket is separate)',
        });
    }
    if (!BUCKET.test(t.bucket ?? ''))
      problems.push({ path: 'body/bucket', message: '3 to 63 lowercase letters, digits, "." and "-"' });
    if (!KEY.test(t.accessKeyId ?? ''))
      problems.push({ path: 'body/accessKeyId', message: 'an S3 target needs an access key' });
    if (!KEY.test(t.secretAccessKey ?? ''))
      problems.push({ path: 'body/secretAccessKey', message: 'an S3 target needs a secret key' });
    if (url) location = `s3:${url.protocol}//${url.host}/${t.bucket}`;
  } else if (t.kind === 'path') {
    const p = t.path ?? '';
    if (
      !p.startsWith('/') ||
      !/^[A-Za-z0-9._/-]+$/.test(p) ||
      p.split('/').some((s) => s === '..' || s === '.')
    )
      problems.push({
        path: 'body/path',
        message: 'must be an absolute path of letters, digits, ".", "_", "-", "/" without ".."',
      });
    if (t.accessKeyId || t.secretAccessKey)
      problems.push({ path: 'body/accessKeyId', message: 'a path target takes no credentials' });
    location = p.replace(/\/+$/, '');
  } else problems.push({ path: 'body/kind', message: 'must be s3 or path' });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    target: {
      name: t.name,
      kind: t.kind,
      location,
      ...(t.kind === 's3' ? { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey } : {}),
    },
  };
}
