/**
 * Releases of the monitoring stack's components the admin lets grim install: a binary or an upstream release
 * tarball (.tar.gz), from a file on the control node or an http(s) URL. grim computes and records the SHA-256
 * itself (the admin's, when given, must agree); nodes only get an artifact whose SHA-256 matches the record. A
 * tarball names its executable with `entry` (e.g. grafana-v11.3.0/bin/grafana); a binary is its own entry.
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../store/db.ts';
import { stackRepo, type StackReleaseRow } from '../../store/monitoring-stack-repo.ts';
import { conflict, invalid, type ErrorDetail } from '../../domain/errors.ts';
import { COMPONENTS, type Component } from '../../domain/monitoring/stack.ts';
import { copyOrDownload, sha256File, versionProblems } from '../seaweedfs/releases.ts';

export interface RecordStackRelease {
  component: string;
  version: string;
  path?: string;
  url?: string;
  sha256?: string;
  entry?: string;
}

const TARBALL = /\.(tar\.gz|tgz)$/;

export function releaseProblems(r: RecordStackRelease): ErrorDetail[] {
  const problems: ErrorDetail[] = versionProblems(r.version).map((message) => ({
    path: 'body/version',
    message,
  }));
  if (!COMPONENTS.includes(r.component as Component))
    problems.push({ path: 'body/component', message: `must be one of ${COMPONENTS.join(', ')}` });
  if (!!r.path === !!r.url) problems.push({ path: 'body', message: 'give exactly one of path or url' });
  if (r.path !== undefined && !r.path.startsWith('/'))
    problems.push({ path: 'body/path', message: 'must be an absolute path on the control node' });
  if (r.url !== undefined && !/^https?:\/\/[^\s]+$/.test(r.url))
    problems.push({ path: 'body/url', message: 'must be an http(s) URL' });
  if (r.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(r.sha256))
    problems.push({ path: 'body/sha256', message: 'must be 64 lowercase hex digits' });
  const tarball = TARBALL.test(r.path ?? r.url ?? '');
  if (tarball && !r.entry)
    problems.push({ path: 'body/entry', message: 'a tarball needs the path of its executable inside it' });
  if (!tarball && r.entry !== undefined)
    problems.push({ path: 'body/entry', message: 'only a tarball (.tar.gz) has an entry' });
  if (
    r.entry !== undefined &&
    (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(r.entry) || /(^|\/)\.\.?(\/|$)/.test(r.entry))
  )
    problems.push({ path: 'body/entry', message: 'must be a plain relative path (no .., no leading /)' });
  return problems;
}

export class StackReleaseStore {
  readonly #db: Db;
  readonly #dir: string;
  constructor(db: Db, dataDir: string) {
    this.#db = db;
    this.#dir = join(dataDir, 'monitoring', 'releases');
  }

  list(): Promise<StackReleaseRow[]> {
    return stackRepo.releases(this.#db);
  }

  async record(r: RecordStackRelease): Promise<StackReleaseRow> {
    const problems = releaseProblems(r);
    if (problems.length) throw invalid('invalid release', problems);
    if (await stackRepo.release(this.#db, r.component, r.version))
      throw conflict(`${r.component} release ${r.version} is already recorded`);
    const tarball = TARBALL.test(r.path ?? r.url ?? '');
    const dir = join(this.#dir, r.component, r.version);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, tarball ? 'release.tar.gz' : r.component);
    try {
      await copyOrDownload(r, file);
      await chmod(file, tarball ? 0o644 : 0o755);
      const sha256 = await sha256File(file);
      if (r.sha256 && r.sha256 !== sha256)
        throw invalid('release checksum mismatch', [
          { path: 'body/sha256', message: `expected ${r.sha256}, the file has ${sha256}` },
        ]);
      const row: StackReleaseRow = {
        component: r.component,
        version: r.version,
        sha256,
        size_bytes: (await stat(file)).size,
        kind: tarball ? 'tarball' : 'binary',
        entry: r.entry ?? r.component,
        source: r.url ?? `file:${r.path}`,
        path: file,
        recorded_at: Date.now(),
      };
      await stackRepo.putRelease(this.#db, row);
      return row;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The newest recorded release of a component, or the one asked for; checked against its SHA-256. */
  async verified(component: Component, version?: string): Promise<StackReleaseRow | undefined> {
    const all = (await this.list()).filter((r) => r.component === component);
    const row = version ? all.find((r) => r.version === version) : all.at(-1);
    if (!row) return undefined;
    const sha = await sha256File(row.path);
    if (sha !== row.sha256)
      throw conflict(
        `${component} release ${row.version}: the stored file's SHA-256 ${sha} differs from the recorded ${row.sha256}`,
      );
    return row;
  }
}
