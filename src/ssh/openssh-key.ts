// ed25519 key pairs in OpenSSH's formats, built from node:crypto. (ssh2's generateKeyPairSync drops a
// leading zero byte of the public key, about 1 key in 300, and then cannot parse its own output.)
// Format: PROTOCOL.key in OpenSSH's source: "openssh-key-v1\0", cipher and KDF "none", one key.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function wrap(base64: string): string {
  return base64.match(/.{1,70}/g)!.join('\n');
}

/** `{ private: "-----BEGIN OPENSSH PRIVATE KEY-----...", public: "ssh-ed25519 AAAA... comment" }` */
export function generateEd25519OpenSsh(comment: string): { private: string; public: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  if (pub.length !== 32 || seed.length !== 32) throw new Error('unexpected ed25519 key length');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad = (8 - (secret.length % 8)) % 8; // block size 8 for "none"; padding bytes 1, 2, 3, ...
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const file = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(blob),
    sshString(secret),
  ]);
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(file.toString('base64'))}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `ssh-ed25519 ${blob.toString('base64')} ${comment}`,
  };
}
