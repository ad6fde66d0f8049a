/**
 * The master key inside a backup, encrypted with a passphrase: scrypt (memory-hard: N=2^17, r=8, p=1, i.e.
 * 128 MiB and about a second per guess here) derives an AES-256-GCM key. The KDF parameters travel with the
 * ciphertext so they can be raised later without breaking old backups.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export interface PassphraseSealed {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

const DEFAULT = { N: 2 ** 17, r: 8, p: 1 };

function derive(passphrase: string, salt: Buffer, k: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { ...k, maxmem: 256 * k.N * k.r + 1024 * 1024 });
}

export function checkPassphrase(passphrase: string): string[] {
  const problems: string[] = [];
  if (passphrase.length < 12) problems.push('the passphrase must be at least 12 characters long');
  return problems;
}

export function sealWithPassphrase(plain: Buffer, passphrase: string, k = DEFAULT): PassphraseSealed {
  const problems = checkPassphrase(passphrase);
  if (problems.length) throw new Error(problems.join('; '));
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(passphrase, salt, k), iv);
  cipher.setAAD(Buffer.from('grim-backup-master-key'));
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    kdf: 'scrypt',
    ...k,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export function openWithPassphrase(s: PassphraseSealed, passphrase: string): Buffer {
  if (
    s.kdf !== 'scrypt' ||
    !(s.N >= 2 ** 14 && s.N <= 2 ** 22) ||
    !(s.r >= 1 && s.r <= 32) ||
    !(s.p >= 1 && s.p <= 16)
  )
    throw new Error('encrypted master key: unsupported KDF parameters');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    derive(passphrase, Buffer.from(s.salt, 'base64'), s),
    Buffer.from(s.iv, 'base64'),
  );
  decipher.setAAD(Buffer.from('grim-backup-master-key'));
  decipher.setAuthTag(Buffer.from(s.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(s.data, 'base64')), decipher.final()]);
  } catch {
    throw new Error('encrypted master key: wrong passphrase (or the backup was altered)');
  }
}
