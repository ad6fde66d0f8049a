/**
 * ZFS naming rules (OpenZFS module/zcommon/zfs_namecheck.c and libzfs zpool_name_valid), applied
 * before anything reaches a node. Every check returns ALL problems, never just the first.
 *
 * grim is stricter than ZFS in one way: it refuses spaces, because `zpool status` and `zfs list`
 * print whitespace-separated columns and a name with a space could not be read back unambiguously.
 */

/** ZFS_MAX_DATASET_NAME_LEN (256) includes the terminating NUL. */
export const MAX_NAME_LENGTH = 255;
/** zfs_max_dataset_nesting default. */
export const MAX_NESTING = 50;

const COMPONENT_CHAR = /^[A-Za-z0-9_.:-]$/;

function badChars(component: string): string[] {
  const bad = new Set<string>();
  for (const c of component) if (!COMPONENT_CHAR.test(c)) bad.add(c);
  return [...bad];
}

function showChars(chars: string[]): string {
  return chars.map((c) => (c === ' ' ? 'space' : JSON.stringify(c))).join(', ');
}

/** Problems with one component (a pool name, a path element between '/' or a snapshot name). */
function componentProblems(component: string, what: string): string[] {
  const problems: string[] = [];
  if (component === '') problems.push(`${what} is empty`);
  if (component === '.' || component === '..') problems.push(`${what} cannot be "${component}"`);
  const bad = badChars(component);
  if (bad.length)
    problems.push(
      `${what} contains ${showChars(bad)}: only letters, digits and _ - . : are allowed (no spaces)`,
    );
  return problems;
}

const RESERVED_POOL_PREFIXES = ['mirror', 'raidz', 'draid', 'spare'];

export function poolNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (typeof name !== 'string' || name.length === 0) return ['pool name is empty'];
  if (name.length > MAX_NAME_LENGTH) problems.push(`pool name is longer than ${MAX_NAME_LENGTH} characters`);
  if (!/^[A-Za-z]/.test(name)) problems.push('pool name must begin with a letter');
  if (name.includes('/') || name.includes('@') || name.includes('#'))
    problems.push('pool name cannot contain "/", "@" or "#"');
  if (name.includes('%')) problems.push('pool name cannot contain "%" (reserved for internal use)');
  const rest = name.replace(/[/@#%]/g, '');
  problems.push(...componentProblems(rest, 'pool name').filter((p) => !p.endsWith('is empty')));
  const lower = name.toLowerCase();
  for (const prefix of RESERVED_POOL_PREFIXES)
    if (lower.startsWith(prefix)) problems.push(`pool name cannot begin with "${prefix}" (reserved)`);
  if (name === 'log') problems.push('pool name "log" is reserved');
  if (/^c[0-9]/.test(name)) problems.push('pool name cannot look like a disk name (c followed by a digit)');
  return problems;
}

/** A filesystem path "pool/a/b" (no snapshot part). */
export function datasetNameProblems(name: string): string[] {
  if (typeof name !== 'string' || name.length === 0) return ['dataset name is empty'];
  const problems: string[] = [];
  if (name.length > MAX_NAME_LENGTH)
    problems.push(`dataset name is longer than ${MAX_NAME_LENGTH} characters`);
  if (name.includes('@')) problems.push('dataset name cannot contain "@" (that marks a snapshot)');
  if (name.includes('#')) problems.push('dataset name cannot contain "#" (that marks a bookmark)');
  if (name.includes('%')) problems.push('dataset name cannot contain "%" (reserved for internal use)');
  if (name.startsWith('/'))
    problems.push('dataset name cannot begin with "/" (it starts with the pool name)');
  if (name.endsWith('/')) problems.push('dataset name cannot end with "/"');
  if (name.includes('//')) problems.push('dataset name cannot contain an empty component ("//")');
  const parts = name.split('/');
  if (parts.length > MAX_NESTING) problems.push(`dataset is nested deeper than ${MAX_NESTING} levels`);
  const [pool, ...rest] = parts;
  if (pool) problems.push(...poolNameProblems(pool.replace(/[@#%]/g, '')).map((p) => `in ${p}`));
  rest.forEach((part, i) => {
    if (part === '') return;
    problems.push(...componentProblems(part.replace(/[@#%]/g, ''), `component ${i + 2} ("${part}")`));
  });
  return [...new Set(problems)];
}

/** A snapshot short name (the part after '@'). */
export function snapshotShortNameProblems(name: string): string[] {
  if (typeof name !== 'string' || name.length === 0) return ['snapshot name is empty'];
  const problems: string[] = [];
  if (name.includes('@') || name.includes('/') || name.includes('#'))
    problems.push('snapshot name cannot contain "@", "/" or "#"');
  if (name.includes('%')) problems.push('snapshot name cannot contain "%" (reserved for internal use)');
  problems.push(...componentProblems(name.replace(/[@/#%]/g, ''), 'snapshot name'));
  return [...new Set(problems)];
}

/** A full snapshot name "pool/fs@snap". */
export function fullSnapshotNameProblems(full: string): string[] {
  if (typeof full !== 'string' || !full.includes('@')) return ['snapshot must be written dataset@name'];
  const at = full.indexOf('@');
  const problems = [
    ...datasetNameProblems(full.slice(0, at)),
    ...snapshotShortNameProblems(full.slice(at + 1)),
  ];
  if (full.length > MAX_NAME_LENGTH)
    problems.push(`snapshot name is longer than ${MAX_NAME_LENGTH} characters`);
  return problems;
}

const DEV_PATH_CHAR = /^[A-Za-z0-9_.:+,=@/-]$/;

/**
 * A disk path as grim passes it to zpool: an absolute path under /dev/ (by-id preferred), made of
 * safe characters, without "." or ".." elements, never starting with "-".
 */
export function diskPathProblems(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) return ['disk path is empty'];
  const problems: string[] = [];
  if (path.length > 1024) problems.push('disk path is longer than 1024 characters');
  if (!path.startsWith('/dev/')) problems.push(`disk path ${JSON.stringify(path)} must be under /dev/`);
  const bad = new Set<string>();
  for (const c of path) if (!DEV_PATH_CHAR.test(c)) bad.add(c);
  if (bad.size)
    problems.push(
      `disk path ${JSON.stringify(path)} contains ${showChars([...bad])}: only letters, digits and _ . : + , = @ - / are allowed`,
    );
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '.' || p === '..'))
    problems.push(`disk path ${JSON.stringify(path)} cannot contain "." or ".." elements`);
  if (parts.some((p) => p === '') && path.length > 1)
    problems.push(`disk path ${JSON.stringify(path)} contains an empty element`);
  if (parts.some((p) => p.startsWith('-')))
    problems.push(`disk path ${JSON.stringify(path)} has an element starting with "-"`);
  return problems;
}
