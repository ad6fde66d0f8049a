/**
 * WWW-Authenticate parsing (RFC 7235 challenges), tolerant of several challenges joined by commas
 * (which is what `Headers.get` returns for repeated headers).
 */

export interface AuthChallenge {
  /** Scheme in lowercase: `bearer`, `basic`, ... */
  scheme: string;
  /** Auth parameters with lowercase names: realm, service, scope, error ... */
  params: Record<string, string>;
  /** token68 form (`Negotiate abc==`), rare for registries. */
  token68?: string;
}

export class WwwAuthenticateError extends Error {
  constructor(header: string, reason: string) {
    super(`cannot parse WWW-Authenticate ${JSON.stringify(header)}: ${reason}`);
    this.name = 'WwwAuthenticateError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;
const PARAM_START = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=\s*[^=\s,]/;

export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let pos = 0;
  const skipSpace = () => {
    while (pos < header.length && (header[pos] === ' ' || header[pos] === '\t')) pos++;
  };
  const skipCommas = () => {
    for (;;) {
      skipSpace();
      if (header[pos] !== ',') return;
      pos++;
    }
  };
  const fail = (reason: string): never => {
    throw new WwwAuthenticateError(header, `${reason} at offset ${pos}`);
  };
  const readToken = (): string | undefined => {
    const match = TOKEN.exec(header.slice(pos));
    if (!match) return undefined;
    pos += match[0].length;
    return match[0];
  };
  const readQuoted = (): string => {
    pos++; // opening quote
    let out = '';
    while (pos < header.length) {
      const ch = header[pos++];
      if (ch === '"') return out;
      if (ch === '\\') {
        if (pos >= header.length) break;
        out += header[pos++];
      } else {
        out += ch;
      }
    }
    return fail('unterminated quoted string');
  };

  skipCommas();
  while (pos < header.length) {
    const scheme = readToken();
    if (!scheme) fail('expected an auth scheme');
    const challenge: AuthChallenge = { scheme: (scheme as string).toLowerCase(), params: {} };
    challenges.push(challenge);
    skipSpace();
    // token68 form (`Negotiate abc==`): a value that is not the start of "name=value".
    const rest = header.slice(pos);
    const t68 = TOKEN68.exec(rest);
    if (t68 && !PARAM_START.test(rest) && /^\s*(,|$)/.test(rest.slice(t68[0].length))) {
      challenge.token68 = t68[0];
      pos += t68[0].length;
      skipCommas();
      continue;
    }
    // auth-params until the next challenge (a token followed by space and another token, not "=").
    for (;;) {
      skipCommas();
      if (pos >= header.length) break;
      const save = pos;
      const name = readToken();
      if (!name) fail('expected an auth parameter');
      skipSpace();
      if (header[pos] !== '=') {
        pos = save; // start of the next challenge
        break;
      }
      pos++;
      skipSpace();
      const value = header[pos] === '"' ? readQuoted() : readToken();
      if (value === undefined) fail(`missing value for parameter ${name}`);
      challenge.params[(name as string).toLowerCase()] = value as string;
    }
  }
  return challenges;
}

/** The first challenge with the given scheme (case-insensitive), if any. */
export function findChallenge(challenges: AuthChallenge[], scheme: string): AuthChallenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === wanted);
}
