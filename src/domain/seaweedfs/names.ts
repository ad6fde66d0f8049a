/**
 * What a user may type for SeaweedFS objects: bucket names, access-key names, filer paths and mount points.
 * Each check returns EVERY problem it finds (not just the first), so the API can list them all.
 * Bucket rules are S3's (3-63 characters, lowercase letters, digits, dots and dashes, ...), stricter than
 * SeaweedFS's own (it only checks the length), so a bucket grim creates works with every S3 client.
 */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function bucketNameProblems(name: string): string[] {
  const p: string[] = [];
  if (typeof name !== 'string') return ['must be a string'];
  if (name.length < 3 || name.length > 63) p.push(`must be 3 to 63 characters long (is ${name.length})`);
  if (/[A-Z]/.test(name)) p.push('must not contain uppercase letters');
  const bad = [...new Set(name.replace(/[a-zA-Z0-9.-]/g, ''))];
  if (bad.length) p.push(`must not contain ${bad.map((c) => JSON.stringify(c)).join(', ')}`);
  if (name && !/^[a-z0-9]/.test(name)) p.push('must start with a lowercase letter or digit');
  if (name && !/[a-z0-9]$/.test(name)) p.push('must end with a lowercase letter or digit');
  if (name.includes('..')) p.push('must not contain two dots in a row');
  if (/\.-|-\./.test(name)) p.push('must not have a dash next to a dot');
  if (IPV4.test(name)) p.push('must not look like an IP address');
  if (name.startsWith('xn--')) p.push('must not start with "xn--"');
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3')) p.push('must not end with a reserved suffix');
  return p;
}

/** A key's human name (the identity in SeaweedFS's S3 config): like grim's other names. */
export function keyNameProblems(name: string): string[] {
  const p: string[] = [];
  if (typeof name !== 'string') return ['must be a string'];
  if (name.length < 1 || name.length > 63) p.push(`must be 1 to 63 characters long (is ${name.length})`);
  if (/[A-Z]/.test(name)) p.push('must not contain uppercase letters');
  const bad = [...new Set(name.replace(/[a-zA-Z0-9-]/g, ''))];
  if (bad.length) p.push(`must not contain ${bad.map((c) => JSON.stringify(c)).join(', ')}`);
  if (name && !/^[a-z0-9]/.test(name)) p.push('must start with a lowercase letter or digit');
  if (name && !/[a-z0-9]$/.test(name)) p.push('must end with a lowercase letter or digit');
  if (name === 'grim-admin') p.push('"grim-admin" is reserved for grim');
  return p;
}

/**
 * An absolute path (a filer path or a mount point): slash-separated segments of letters, digits and
 * `._-`, no `.`/`..` segments, no empty segments, at most 255 characters. Nothing here reaches a shell
 * unquoted, but an odd path in a config file or a mount table is still refused.
 */
export function absolutePathProblems(path: string, opts: { forbidRoot?: string[] } = {}): string[] {
  const p: string[] = [];
  if (typeof path !== 'string') return ['must be a string'];
  if (path.length < 2 || path.length > 255) p.push(`must be 2 to 255 characters long (is ${path.length})`);
  if (!path.startsWith('/')) p.push('must be absolute (start with /)');
  if (path.length > 1 && path.endsWith('/')) p.push('must not end with /');
  const bad = [...new Set(path.replace(/[A-Za-z0-9._/-]/g, ''))];
  if (bad.length) p.push(`must not contain ${bad.map((c) => JSON.stringify(c)).join(', ')}`);
  const segments = path.split('/').slice(1);
  if (segments.some((s, i) => s === '' && i < segments.length - 1)) p.push('must not contain //');
  if (segments.some((s) => s === '.' || s === '..')) p.push('must not contain . or .. segments');
  if (segments.some((s) => s.startsWith('-'))) p.push('no segment may start with -');
  for (const root of opts.forbidRoot ?? [])
    if (path === root || path.startsWith(`${root}/`)) p.push(`must not be under ${root}`);
  return p;
}

/** Directories a mount must never cover on a node. */
export const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib/grim',
  '/opt/seaweedfs',
];

export function mountDirProblems(dir: string): string[] {
  const p = absolutePathProblems(dir, { forbidRoot: SYSTEM_DIRS });
  if (dir === '/') p.push('must not be /');
  return p;
}

/** A filer path a mount may expose: under /buckets (a bucket) or /volumes (shared volumes). */
export function filerPathProblems(path: string): string[] {
  const p = absolutePathProblems(path);
  if (typeof path === 'string' && !/^\/(buckets|volumes)(\/|$)/.test(path))
    p.push('must be under /buckets or /volumes');
  if (typeof path === 'string' && path.startsWith('/buckets/')) {
    const bucket = path.split('/')[2] ?? '';
    for (const m of bucketNameProblems(bucket)) p.push(`bucket ${JSON.stringify(bucket)} ${m}`);
  }
  return p;
}

/** The name of a mount (the supervised service weed-mount-<name>). */
export function mountNameProblems(name: string): string[] {
  const p = keyNameProblems(name).filter((m) => !m.includes('reserved'));
  if (typeof name === 'string' && name.length > 40) p.push('must be at most 40 characters long');
  return p;
}
