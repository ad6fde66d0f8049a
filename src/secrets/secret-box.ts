// AES-256-GCM sealing of secrets at rest. The 32-byte key-encryption key lives outside the database:
// env GRIM_MASTER_KEY (base64) or the file <dataDir>/secrets/master.key (base64, mode 0600, created on first use).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`master key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** Encrypt. `context` (e.g. "ssh-key") is authenticated, so a sealed value cannot be reused for another purpose. */
  seal(plain: string | Buffer, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Decrypt; throws if the value was altered, sealed with another key, or with another context. */
  open(sealed: string, context = ''): Buffer {
    const [version, payload] = sealed.split(':', 2);
    if (version !== VERSION || !payload) throw new Error('sealed secret: unknown format');
    const raw = Buffer.from(payload, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed secret: too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error('sealed secret: cannot decrypt (wrong master key or tampered value)');
    }
  }
}

export function masterKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets', 'master.key');
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES)
    throw new Error(`${source}: expected ${KEY_BYTES} bytes of base64, got ${key.length}`);
  return key;
}

/** Load the master key from GRIM_MASTER_KEY, else from <dataDir>/secrets/master.key (creating it if missing). */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.GRIM_MASTER_KEY;
  if (fromEnv) return decodeKey(fromEnv, 'GRIM_MASTER_KEY');
  const path = masterKeyPath(dataDir);
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  return decodeKey(readFileSync(path, 'utf8'), path);
}

export function openSecretBox(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
  return new SecretBox(loadMasterKey(dataDir, env));
}
