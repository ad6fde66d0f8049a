/**
 * SeaweedFS releases grim may install: the admin gives a release tarball URL (upstream's
 * linux_amd64.tar.gz; its .md5 is checked when published) or a `weed` binary on the control node (the lab
 * records the one in /opt/grim-venv). grim computes and records the binary's SHA-256 itself; when the admin
 * states one too, they must agree. Nodes only ever get a binary whose SHA-256 matches the record.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Db } from '../../store/db.ts';
import { seaweedRepo, type ReleaseRow } from '../../store/seaweedfs-repo.ts';
import { conflict, invalid, type ErrorDetail } from '../../domain/errors.ts';

const run = promisify(execFile);

export function versionProblems(v: string): string[] {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(v))
    return ['must be 1 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit'];
  return [];
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/**
 * Puts a release artifact at `dest`: a copy of a file on the control node, or the body of an http(s) URL.
 * A missing file or a failed download is a 400 naming the field.
 */
export async function copyOrDownload(src: { path?: string; url?: string }, dest: string): Promise<void> {
  if (src.path) {
    const s = await stat(src.path).catch(() => null);
    if (!s?.isFile())
      throw invalid('invalid release', [
        { path: 'body/path', message: `${src.path} is not a file on the control node` },
      ]);
    await copyFile(src.path, dest);
    return;
  }
  const res = await fetch(src.url!, { signal: AbortSignal.timeout(600_000) });
  if (!res.ok)
    throw invalid('release download failed', [{ path: 'body/url', message: `HTTP ${res.status}` }]);
  await writeFile(dest, Buffer.from(await res.arrayBuffer()));
}

export interface RecordRelease {
  version: string;
  /** a `weed` binary on the control node */
  path?: string;
  /** a release tarball (linux_amd64.tar.gz) */
  url?: string;
  /** the SHA-256 the admin expects of the binary */
  sha256?: string;
}

export class ReleaseStore {
  readonly #db: Db;
  readonly #dir: string;
  constructor(db: Db, dataDir: string) {
    this.#db = db;
    this.#dir = join(dataDir, 'seaweedfs', 'releases');
  }

  list(): Promise<ReleaseRow[]> {
    return seaweedRepo.releases(this.#db);
  }

  get(version: string): Promise<ReleaseRow | undefined> {
    return seaweedRepo.release(this.#db, version);
  }

  async record(r: RecordRelease): Promise<ReleaseRow> {
    const problems: ErrorDetail[] = versionProblems(r.version).map((message) => ({
      path: 'body/version',
      message,
    }));
    if (!!r.path === !!r.url) problems.push({ path: 'body', message: 'give exactly one of path or url' });
    if (r.path !== undefined && !r.path.startsWith('/'))
      problems.push({ path: 'body/path', message: 'must be an absolute path on the control node' });
    if (r.url !== undefined && !/^https?:\/\/[^\s]+\.tar\.gz$/.test(r.url))
      problems.push({ path: 'body/url', message: 'must be an http(s) URL of a .tar.gz release asset' });
    if (r.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(r.sha256))
      problems.push({ path: 'body/sha256', message: 'must be 64 lowercase hex digits' });
    if (problems.length) throw invalid('invalid release', problems);
    if (await this.get(r.version)) throw conflict(`release ${r.version} is already recorded`);
    const dir = join(this.#dir, r.version);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const bin = join(dir, 'weed');
    try {
      if (r.path) {
        await copyOrDownload(r, bin);
      } else {
        const tarball = join(dir, 'release.tar.gz');
        await copyOrDownload(r, tarball);
        const md5 = await fetch(`${r.url}.md5`, { signal: AbortSignal.timeout(60_000) }).catch(() => null);
        if (md5?.ok) {
          const want = (await md5.text()).trim().split(/\s+/)[0];
          const got = await md5File(tarball);
          if (want !== got)
            throw invalid('release checksum mismatch', [
              { path: 'body/url', message: `upstream MD5 ${want}, downloaded ${got}` },
            ]);
        }
        await run('tar', ['-xzf', tarball, '-C', dir, 'weed'], { timeout: 120_000 });
        await rm(tarball, { force: true });
      }
      await chmod(bin, 0o755);
      const sha256 = await sha256File(bin);
      if (r.sha256 && r.sha256 !== sha256)
        throw invalid('release checksum mismatch', [
          { path: 'body/sha256', message: `expected ${r.sha256}, the binary has ${sha256}` },
        ]);
      const row: ReleaseRow = {
        version: r.version,
        sha256,
        size_bytes: (await stat(bin)).size,
        source: r.url ?? `file:${r.path}`,
        path: bin,
        recorded_at: Date.now(),
      };
      await seaweedRepo.putRelease(this.#db, row);
      return row;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The binary of a release, checked against the recorded SHA-256 before it leaves the control node. */
  async verifiedBinary(version: string): Promise<ReleaseRow> {
    const row = await this.get(version);
    if (!row)
      throw invalid('unknown release', [
        { path: 'body/version', message: `release ${version} is not recorded (grim storage release add)` },
      ]);
    const sha = await sha256File(row.path);
    if (sha !== row.sha256)
      throw conflict(
        `release ${version}: the stored binary's SHA-256 ${sha} differs from the recorded ${row.sha256}`,
      );
    return row;
  }
}
