// Node-side scripts are real files under scripts/. Their header says what they take and return:
//   # param: NAME - description            (required environment variable)
//   # param: NAME (optional) - description
//   # result: one JSON line, e.g. {"ok":true}
//   # lib: NAME                            (scripts/lib/NAME.sh is inlined after the header)
// so the UI and CLI can show the admin exactly what will run, and grim can check what it passes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidCommandError } from '../ssh/errors.ts';
import { envProblems } from '../ssh/quote.ts';

export const SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/', import.meta.url));

export interface ScriptParam {
  name: string;
  description: string;
  optional: boolean;
}

export interface NodeScript {
  /** e.g. "facts" (scripts/node/facts.sh) or "lab/up" (scripts/lab/up.sh). */
  name: string;
  path: string;
  body: string;
  /** First header comment line that is not a param/result line. */
  summary: string;
  params: ScriptParam[];
  /** What the last stdout line holds. */
  result: string;
  /** Shared helpers (scripts/lib/<name>.sh) inlined into body after the header. */
  libs: string[];
}

const NAME = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)?$/;
const LIB = /^lib:\s*([a-z0-9][a-z0-9-]*)$/;
const PARAM = /^param:\s*([A-Z_][A-Z0-9_]*)\s*(\(optional\))?\s*(?:-\s*(.*))?$/;
const cache = new Map<string, NodeScript>();

/** Path of a script: a bare name is under scripts/node/, "dir/name" under scripts/dir/. */
export function scriptPath(name: string, dir: string = SCRIPTS_DIR): string {
  if (!NAME.test(name)) throw new InvalidCommandError([`invalid script name ${JSON.stringify(name)}`]);
  return `${dir}${name.includes('/') ? name : `node/${name}`}.sh`;
}

export function parseScript(name: string, path: string, body: string): NodeScript {
  const params: ScriptParam[] = [];
  const results: string[] = [];
  const libs: string[] = [];
  let summary = '';
  for (const line of body.split('\n')) {
    if (line.startsWith('#!')) continue;
    if (!line.startsWith('#')) break; // the header ends at the first non-comment line
    const text = line.replace(/^#\s?/, '').trim();
    if (text.startsWith('lib:')) {
      const match = LIB.exec(text);
      if (!match) throw new Error(`${path}: malformed lib line: ${line}`);
      libs.push(match[1]);
    } else if (text.startsWith('param:')) {
      const match = PARAM.exec(text);
      if (!match) throw new Error(`${path}: malformed param line: ${line}`);
      params.push({ name: match[1], optional: Boolean(match[2]), description: (match[3] ?? '').trim() });
    } else if (text.startsWith('result:')) {
      results.push(text.slice('result:'.length).trim());
    } else if (!summary && text) {
      summary = text;
    }
  }
  return { name, path, body, summary, params, result: results.join(' '), libs };
}

/** The body with each `# lib:` helper inlined right after the header, so the script runs as one file. */
export function inlineLibs(script: NodeScript, dir: string = SCRIPTS_DIR): NodeScript {
  if (script.libs.length === 0) return script;
  const lines = script.body.split('\n');
  const headerEnd = lines.findIndex((line) => !line.startsWith('#'));
  const cut = headerEnd < 0 ? lines.length : headerEnd;
  const helpers = script.libs.map((lib) => readFileSync(`${dir}lib/${lib}.sh`, 'utf8').trimEnd());
  const body = [...lines.slice(0, cut), ...helpers, ...lines.slice(cut)].join('\n');
  return { ...script, body };
}

export function scriptFor(name: string, dir: string = SCRIPTS_DIR): NodeScript {
  const path = scriptPath(name, dir);
  let script = cache.get(path);
  if (!script) {
    script = inlineLibs(parseScript(name, path, readFileSync(path, 'utf8')), dir);
    cache.set(path, script);
  }
  return script;
}

/** Every problem with the environment passed to a script: undeclared, missing required, or badly formed. */
export function paramProblems(script: NodeScript, env: Record<string, string>): string[] {
  const problems = envProblems(env);
  const declared = new Set(script.params.map((p) => p.name));
  for (const name of Object.keys(env)) {
    if (!declared.has(name)) problems.push(`${script.name}: ${name} is not a declared parameter`);
  }
  for (const param of script.params) {
    if (!param.optional && !(param.name in env))
      problems.push(`${script.name}: missing parameter ${param.name}`);
  }
  return problems;
}

/** The RemoteCommand for a script, after checking its parameters. */
export function scriptCommand(
  name: string,
  env: Record<string, string> = {},
  dir?: string,
): { script: string; env: Record<string, string>; name: string } {
  const script = scriptFor(name, dir);
  const problems = paramProblems(script, env);
  if (problems.length > 0) throw new InvalidCommandError(problems);
  return { script: script.body, env, name: script.name };
}
