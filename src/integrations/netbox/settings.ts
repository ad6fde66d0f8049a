// NetBox settings from the environment: GRIM_NETBOX_URL and GRIM_NETBOX_TOKEN (both, or neither), and
// optionally GRIM_NETBOX_TAG (the tag on every address grim allocates, default "grim"). The token never
// appears in logs: the settings object prints and serialises with the token redacted.
import { inspect } from 'node:util';

export interface NetboxSettings {
  url: string; // e.g. https://netbox.example.net (no trailing /api)
  token: string;
  tag?: string;
}

const REDACTED = '[redacted]';

/** The settings, with JSON.stringify and util.inspect (console.log, pino) showing the token as [redacted]. */
export function netboxSettings(s: NetboxSettings): NetboxSettings {
  const shown = () => ({ url: s.url, token: REDACTED, ...(s.tag === undefined ? {} : { tag: s.tag }) });
  return Object.defineProperties(
    { ...s },
    {
      toJSON: { value: shown, enumerable: false },
      [inspect.custom]: { value: () => `NetboxSettings ${inspect(shown())}`, enumerable: false },
    },
  );
}

/** NetBox's tag for a name: the slug is the name lowercased with other characters turned into "-". */
export function netboxTag(name: string): { name: string; slug: string } {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name.trim().length === 0 || name.length > 100 || slug.length === 0)
    throw new Error(`NetBox tag "${name}" must be 1-100 characters with at least one letter or digit`);
  return { name, slug };
}

function validUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** undefined when NetBox is not configured; throws (without the token) when the settings are incomplete. */
export function netboxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NetboxSettings | undefined {
  const url = env.GRIM_NETBOX_URL?.trim() || undefined;
  const token = env.GRIM_NETBOX_TOKEN?.trim() || undefined;
  const tag = env.GRIM_NETBOX_TAG?.trim() || undefined;
  if (url === undefined && token === undefined) {
    if (tag !== undefined)
      throw new Error('GRIM_NETBOX_TAG is set but GRIM_NETBOX_URL and GRIM_NETBOX_TOKEN are not');
    return undefined;
  }
  if (url === undefined) throw new Error('GRIM_NETBOX_TOKEN is set but GRIM_NETBOX_URL is not');
  if (token === undefined) throw new Error('GRIM_NETBOX_URL is set but GRIM_NETBOX_TOKEN is not');
  if (!validUrl(url))
    throw new Error(
      `GRIM_NETBOX_URL must be http(s)://host[:port][/path] without credentials, got "${url.replace(/\/\/[^/]*@/, '//***@')}"`,
    );
  if (tag !== undefined) netboxTag(tag); // fail at start-up, not at the first deploy
  return netboxSettings({ url: url.replace(/\/+$/, ''), token, ...(tag === undefined ? {} : { tag }) });
}
