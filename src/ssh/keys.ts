// grim's own SSH identity (ed25519) and host-key fingerprints in OpenSSH's SHA256 format.

import { createHash } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { SecretBox } from '../secrets/secret-box.ts';
import { generateEd25519OpenSsh } from './openssh-key.ts';

const SEAL_CONTEXT = 'grim-ssh-private-key';

export interface KeyPair {
  /** OpenSSH-format private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... grim@<host>` — the line to put in authorized_keys. */
  publicKey: string;
  /** SHA256 fingerprint of the public key, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** What grim stores: the private key only sealed with the master key. */
export interface StoredKeyPair {
  publicKey: string;
  fingerprint: string;
  sealedPrivateKey: string;
}

export function generateKeyPair(host: string = osHostname()): KeyPair {
  const pair = generateEd25519OpenSsh(`grim@${host}`);
  return {
    privateKey: pair.private,
    publicKey: pair.public,
    fingerprint: fingerprintOfPublicKey(pair.public),
  };
}

export function generateStoredKeyPair(box: SecretBox, host?: string): StoredKeyPair {
  const pair = generateKeyPair(host);
  return {
    publicKey: pair.publicKey,
    fingerprint: pair.fingerprint,
    sealedPrivateKey: box.seal(pair.privateKey, SEAL_CONTEXT),
  };
}

export function unsealPrivateKey(box: SecretBox, stored: Pick<StoredKeyPair, 'sealedPrivateKey'>): string {
  return box.open(stored.sealedPrivateKey, SEAL_CONTEXT).toString('utf8');
}

/** `SHA256:` + unpadded base64 of sha256(key blob) — the blob is the wire-format public key. */
export function fingerprintOfKeyBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Key type name inside a wire-format key blob (e.g. `ssh-ed25519`). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) throw new Error('public key blob too short');
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4) throw new Error('public key blob is malformed');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `<type> <base64>` line for a wire-format key blob (known_hosts / authorized_keys style, no comment). */
export function publicKeyLineOfBlob(blob: Buffer): string {
  return `${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
}

/** Fingerprint of an OpenSSH public key line: `ssh-ed25519 AAAA... [comment]`. */
export function fingerprintOfPublicKey(line: string): string {
  const [type, data] = line.trim().split(/\s+/);
  if (!type || !data) throw new Error('not an OpenSSH public key line');
  const blob = Buffer.from(data, 'base64');
  if (keyTypeOfBlob(blob) !== type) throw new Error(`public key type ${type} does not match its data`);
  return fingerprintOfKeyBlob(blob);
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function isFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}

/** The same key pair with its private key sealed under another master key (`grim master-key rotate`). */
export function resealStoredKeyPair(from: SecretBox, to: SecretBox, stored: StoredKeyPair): StoredKeyPair {
  return {
    ...stored,
    sealedPrivateKey: to.seal(from.open(stored.sealedPrivateKey, SEAL_CONTEXT), SEAL_CONTEXT),
  };
}
