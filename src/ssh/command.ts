// Turns a RemoteCommand into the command line sshd hands to the login shell, plus what goes on stdin.
// Values only ever appear single-quoted (quote.ts); a script body is sent on stdin, never interpolated.

import { InvalidCommandError } from './errors.ts';
import { envAssignments, quoteArgv, shellQuote } from './quote.ts';

/** A node-side sh script run as `sh -s` with its body on stdin and parameters as environment variables. */
export interface ScriptCommand {
  script: string;
  env?: Record<string, string>;
  args?: string[];
  /** Shown in errors and logs, e.g. "facts". */
  name?: string;
}

/** A plain program with arguments (each quoted). */
export interface ArgvCommand {
  argv: string[];
  name?: string;
}

export type RemoteCommand = ScriptCommand | ArgvCommand;

/**
 * Every command line starts by reporting the remote session's PID (= its process group) on stderr,
 * so a timed-out command can be killed with its children. (SSH "signal" requests are refused by
 * sshd for root logins, which run without privilege separation.) The line is removed from stderr.
 */
export const PID_LINE_PREFIX = 'grim-pid:';
const REPORT_PID = `echo "${PID_LINE_PREFIX}$$" >&2; `;

export interface PreparedCommand {
  name: string;
  commandLine: string;
  stdin: string;
}

export function prepareCommand(cmd: RemoteCommand): PreparedCommand {
  if ('argv' in cmd) {
    if (cmd.argv.length === 0) throw new InvalidCommandError(['argv must not be empty']);
    return {
      name: cmd.name ?? cmd.argv[0],
      commandLine: `${REPORT_PID}exec ${quoteArgv(cmd.argv)}`,
      stdin: '',
    };
  }
  if (cmd.script.includes('\0')) throw new InvalidCommandError(['script contains a NUL byte']);
  const assignments = envAssignments(cmd.env ?? {});
  const args = cmd.args && cmd.args.length > 0 ? ` -- ${quoteArgv(cmd.args)}` : '';
  return {
    name: cmd.name ?? 'script',
    commandLine: `${REPORT_PID}${assignments ? `${assignments} ` : ''}exec sh -s${args}`,
    // The body is wrapped in { }: the shell parses the whole group before running any of it, so a
    // script cut short in transit never half-runs, and commands inside cannot swallow later lines.
    stdin: `{\n${cmd.script}\n}\n`,
  };
}

/** Signal a remote session's whole process group (falling back to the process itself). */
export function killCommand(pid: number, signal: 'TERM' | 'KILL'): PreparedCommand {
  if (!Number.isInteger(pid) || pid <= 1) throw new InvalidCommandError([`invalid remote pid ${pid}`]);
  return {
    name: `kill-${signal}`,
    commandLine: `kill -${signal} -${pid} 2>/dev/null || kill -${signal} ${pid} 2>/dev/null; exit 0`,
    stdin: '',
  };
}

/**
 * A script whose stdin or stdout is a data stream (zfs send/receive): its body goes in as one quoted
 * `sh -c` argument instead of on stdin, so the channel's stdin and stdout carry only the stream.
 */
export function prepareStreamCommand(cmd: ScriptCommand): PreparedCommand {
  if (cmd.script.includes('\0')) throw new InvalidCommandError(['script contains a NUL byte']);
  const assignments = envAssignments(cmd.env ?? {});
  const name = cmd.name ?? 'script';
  return {
    name,
    commandLine: `${REPORT_PID}${assignments ? `${assignments} ` : ''}exec sh -c ${shellQuote(cmd.script)} ${shellQuote(name)}`,
    stdin: '',
  };
}
