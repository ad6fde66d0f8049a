/**
 * Pipelines: a git repository and branch that build an image (from a Dockerfile) or an app tarball and deploy it
 * to one app. Everything here is pure: the checks that keep hostile names, repository URLs, branches and build
 * arguments away from git, Buildbot and buildah. Every problem is listed, never only the first.
 */
import type { ErrorDetail } from './errors.ts';

export type PipelineBuild =
  { kind: 'dockerfile'; dockerfile: string } | { kind: 'tarball'; runtime: string; command: string[] };

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';

export interface PipelineSpec {
  name: string;
  repo: string;
  branch: string;
  app: string;
  build: PipelineBuild;
  buildArgs: Record<string, string>;
  /** Run with `sh -c` in the checkout before anything is pushed; a failure stops the build. */
  testCommand: string | null;
  /** GitPoller interval in seconds; 0 = no polling (webhooks only). */
  pollSeconds: number;
}

export interface PipelineInput {
  name: string;
  repo: string;
  branch?: string;
  app: string;
  build: PipelineBuild;
  buildArgs?: Record<string, string>;
  testCommand?: string | null;
  pollSeconds?: number;
}

export const PIPELINE_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Any control character (C0 or DEL). */
const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export function checkPipelineName(name: string): string | null {
  return PIPELINE_NAME.test(name)
    ? null
    : 'lowercase letters, digits and dashes (at most 32), starting and ending with a letter or digit';
}

/**
 * A repository URL git may fetch without running anything: https, http, ssh, git and scp-like `user@host:path`,
 * and file:// only below one of `fileRoots`. Transport helpers (`ext::`, `fd::`, any `x::`), option-looking
 * values (`--upload-pack=…`, `-u`) and hosts or users starting with a dash are refused.
 */
export function repoUrlProblems(url: string, fileRoots: readonly string[]): string[] {
  const out: string[] = [];
  if (url.length === 0 || url.length > 1024) out.push('must be 1 to 1024 characters');
  if (hasControl(url) || /\s/.test(url)) out.push('must not contain spaces or control characters');
  if (url.startsWith('-')) out.push('must not start with "-" (git would read it as an option)');
  if (/--upload-pack|--receive-pack|--config|(^|\s)-u\b|-c\s/.test(url))
    out.push('must not carry git options such as --upload-pack');
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url))
    out.push('transport helpers such as ext:: or fd:: run commands and are not allowed');
  if (/[;`$|&<>\\"'(){}]/.test(url)) out.push('must not contain shell metacharacters');
  if (out.length) return out;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // scp-like: [user@]host:path (no scheme; a colon before the first slash)
    const m = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+):([A-Za-z0-9._~/+-]+)$/.exec(url);
    if (!m) return ['must be an https://, http://, ssh://, git:// or file:// URL or user@host:path'];
    if (m[1]?.startsWith('-') || m[2].startsWith('-') || m[3].startsWith('-'))
      return ['user, host and path must not start with "-"'];
    return [];
  }
  if (scheme === 'file') {
    const path = url.slice('file://'.length);
    if (!path.startsWith('/') || path.split('/').includes('..') || !/^[A-Za-z0-9._~/+-]+$/.test(path))
      return ['file:// needs an absolute path of plain characters without ".."'];
    const allowed = fileRoots.some((root) => path === root || path.startsWith(root.replace(/\/?$/, '/')));
    return allowed
      ? []
      : [
          fileRoots.length
            ? `file:// repositories must be below ${fileRoots.join(' or ')}`
            : 'file:// repositories are not allowed here (GRIM_PIPELINE_FILE_ROOTS is empty)',
        ];
  }
  if (!['https', 'http', 'ssh', 'git'].includes(scheme))
    return [`scheme ${scheme}:// is not allowed (https, http, ssh, git, file)`];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ['is not a valid URL'];
  }
  const problems: string[] = [];
  if (!parsed.hostname || parsed.hostname.startsWith('-'))
    problems.push('needs a host not starting with "-"');
  if (decodeURIComponent(parsed.username).startsWith('-')) problems.push('user must not start with "-"');
  if (parsed.password) problems.push('must not carry a password (use a deploy key)');
  if (parsed.search || parsed.hash) problems.push('must not have a query or fragment');
  if (/%(0|1|7f|2d)/i.test(url)) problems.push('must not hide control characters or dashes in %-escapes');
  return problems;
}

/** `git check-ref-format --branch` rules, plus: no leading dash, at most 200 characters. */
export function branchProblems(branch: string): string[] {
  const out: string[] = [];
  if (branch.length === 0 || branch.length > 200) out.push('must be 1 to 200 characters');
  if (branch.startsWith('-')) out.push('must not start with "-"');
  if (hasControl(branch) || /[ ~^:?*[\\]/.test(branch))
    out.push('must not contain spaces, control characters or any of ~ ^ : ? * [ \\');
  if (branch.includes('..') || branch.includes('@{') || branch.includes('//'))
    out.push('must not contain "..", "@{" or "//"');
  if (/(^|\/)\./.test(branch) || /(\.lock|\.|\/)$/.test(branch) || branch === '@')
    out.push('no component may start with "." and it must not end with "/", "." or ".lock"');
  if (/[;`$|&<>"'(){}]/.test(branch)) out.push('must not contain shell metacharacters');
  return out;
}

/** A path inside the repository: relative, no "..", plain characters. */
function repoPathProblems(p: string): string[] {
  if (!p || p.length > 512) return ['must be 1 to 512 characters'];
  if (p.startsWith('/') || p.startsWith('-') || p.split('/').includes('..') || !/^[A-Za-z0-9._/+-]+$/.test(p))
    return ['must be a relative path of plain characters, not starting with "-" and without ".."'];
  return [];
}

export function buildArgProblems(args: Record<string, string>): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const keys = Object.keys(args);
  if (keys.length > 64) out.push({ path: 'body/buildArgs', message: 'at most 64 build arguments' });
  for (const k of keys) {
    const path = `body/buildArgs/${k.slice(0, 64)}`;
    if (!BUILD_ARG_NAME.test(k))
      out.push({ path, message: 'name must be a letter or _ then letters, digits or _ (at most 128)' });
    const v = args[k];
    if (typeof v !== 'string') out.push({ path, message: 'value must be a string' });
    else if (v.length > 4096 || /[\n\r]/.test(v) || v.includes('\0'))
      out.push({ path, message: 'value must be at most 4096 characters without newlines or NUL' });
  }
  return out;
}

/** Checks the whole input and returns the normalised spec, or every problem found. */
export function checkPipeline(
  input: PipelineInput,
  fileRoots: readonly string[],
): { ok: true; spec: PipelineSpec } | { ok: false; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const add = (path: string, messages: string[]) => {
    for (const message of messages) problems.push({ path, message });
  };
  const nameError = checkPipelineName(input.name);
  if (nameError) add('body/name', [nameError]);
  add('body/repo', repoUrlProblems(input.repo, fileRoots));
  const branch = input.branch ?? 'main';
  add('body/branch', branchProblems(branch));
  if (!PIPELINE_NAME.test(input.app)) add('body/app', ['is not a valid app name']);
  const build = input.build;
  if (build.kind === 'dockerfile') add('body/build/dockerfile', repoPathProblems(build.dockerfile));
  else {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(build.runtime))
      add('body/build/runtime', ['must be a runtime name (lowercase letters, digits, . _ -)']);
    if (!Array.isArray(build.command) || build.command.length === 0)
      add('body/build/command', ['a tarball app needs the command it runs, e.g. ["sh","run.sh"]']);
    else if (build.command.some((c) => hasControl(c.replace(/\t/g, ''))))
      add('body/build/command', ['must not contain control characters']);
  }
  const buildArgs = input.buildArgs ?? {};
  problems.push(...buildArgProblems(buildArgs));
  if (build.kind === 'tarball' && Object.keys(buildArgs).length)
    add('body/buildArgs', ['build arguments apply to Dockerfile builds only']);
  const testCommand = input.testCommand ?? null;
  if (
    testCommand !== null &&
    (testCommand.length === 0 || testCommand.length > 4096 || testCommand.includes('\0'))
  )
    add('body/testCommand', ['must be 1 to 4096 characters without NUL']);
  const pollSeconds = input.pollSeconds ?? 60;
  if (!Number.isInteger(pollSeconds) || (pollSeconds !== 0 && (pollSeconds < 2 || pollSeconds > 86400)))
    add('body/pollSeconds', ['must be 0 (webhooks only) or 2 to 86400 seconds']);
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      name: input.name,
      repo: input.repo,
      branch,
      app: input.app,
      build,
      buildArgs,
      testCommand,
      pollSeconds,
    },
  };
}

/** `refs/heads/<branch>` of a push event, or null. */
export function branchOfRef(ref: unknown): string | null {
  return typeof ref === 'string' && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
}

/** A full 40 (SHA-1) or 64 (SHA-256) hex commit id. */
export function isCommitId(v: unknown): v is string {
  return typeof v === 'string' && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(v);
}
