// Errors raised by the SSH layer. Each carries a `code` from grim's error vocabulary
// (invalid, unavailable, conflict, remote_failed) so services can map them without instanceof chains.

export class InvalidCommandError extends Error {
  readonly code = 'invalid';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid remote command: ${problems.join('; ')}`);
    this.name = 'InvalidCommandError';
    this.problems = problems;
  }
}

export type ConnectFailure = 'refused' | 'timeout' | 'auth' | 'unreachable' | 'closed' | 'protocol';

/** The node could not be reached or logged into (or the connection dropped). */
export class ConnectError extends Error {
  readonly code = 'unavailable';
  readonly nodeId: string;
  readonly address: string;
  readonly port: number;
  readonly reason: ConnectFailure;
  constructor(
    where: { nodeId: string; address: string; port: number },
    reason: ConnectFailure,
    detail: string,
    cause?: unknown,
  ) {
    super(`node ${where.nodeId} (${where.address}:${where.port}): ${reason}: ${detail}`, { cause });
    this.name = 'ConnectError';
    this.nodeId = where.nodeId;
    this.address = where.address;
    this.port = where.port;
    this.reason = reason;
  }
}

/** The node presented a host key other than the pinned one. Nothing was sent to it. */
export class HostKeyMismatchError extends Error {
  readonly code = 'conflict';
  readonly nodeId: string;
  readonly expected: string;
  readonly actual: string;
  constructor(nodeId: string, expected: string, actual: string) {
    super(`node ${nodeId}: host key mismatch: expected ${expected}, got ${actual} — refusing to connect`);
    this.name = 'HostKeyMismatchError';
    this.nodeId = nodeId;
    this.expected = expected;
    this.actual = actual;
  }
}

const STDERR_TAIL_CHARS = 2000;

/** A node-side command ran but failed (non-zero exit, killed by a signal, or timed out). */
export class RemoteCommandError extends Error {
  readonly code = 'remote_failed';
  readonly nodeId: string;
  readonly script: string;
  readonly exitCode: number | null;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly stderrTail: string;
  constructor(
    nodeId: string,
    script: string,
    result: { exitCode: number | null; signal?: string; timedOut: boolean; stderr: string },
  ) {
    const stderrTail = result.stderr.slice(-STDERR_TAIL_CHARS).trimEnd();
    const how = result.timedOut
      ? 'timed out'
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with ${result.exitCode ?? 'no status'}`;
    super(`node ${nodeId}: ${script} ${how}${stderrTail ? `: ${lastLine(stderrTail)}` : ''}`);
    this.name = 'RemoteCommandError';
    this.nodeId = nodeId;
    this.script = script;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.timedOut = result.timedOut;
    this.stderrTail = stderrTail;
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n');
  return lines[lines.length - 1] ?? '';
}
