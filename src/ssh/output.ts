// Bounded capture of a command's output (keeps the tail: the JSON result is the last line).

export class OutputTail {
  readonly #maxChars: number;
  #parts: string[] = [];
  #length = 0;
  truncated = false;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.#parts.push(text);
    this.#length += text.length;
    if (this.#length > this.#maxChars * 2) this.#compact();
  }

  toString(): string {
    this.#compact();
    return this.#parts.join('');
  }

  #compact(): void {
    let all = this.#parts.join('');
    if (all.length > this.#maxChars) {
      all = all.slice(-this.#maxChars);
      this.truncated = true;
    }
    this.#parts = [all];
    this.#length = all.length;
  }
}

/** Removes the `grim-pid:<n>` line that every command line prints first on stderr, and keeps the PID. */
export class PidLineFilter {
  readonly #prefix: string;
  #pending = '';
  #done = false;
  pid: number | undefined;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  push(text: string): string {
    if (this.#done) return text;
    this.#pending += text;
    const newline = this.#pending.indexOf('\n');
    if (newline < 0) return this.#pending.length > 64 ? this.flush() : '';
    const line = this.#pending.slice(0, newline);
    const rest = this.#pending.slice(newline + 1);
    this.#pending = '';
    this.#done = true;
    const match = line.startsWith(this.#prefix) ? /^(\d+)$/.exec(line.slice(this.#prefix.length)) : null;
    if (!match) return `${line}\n${rest}`;
    this.pid = Number(match[1]);
    return rest;
  }

  flush(): string {
    const pending = this.#pending;
    this.#pending = '';
    this.#done = true;
    return pending;
  }
}

/** The last non-empty stdout line parsed as JSON, when it is a JSON object or array. */
export function lastLineJson(stdout: string): unknown {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (!line.startsWith('{') && !line.startsWith('[')) return undefined;
    try {
      return JSON.parse(line);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
