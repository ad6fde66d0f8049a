import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Semaphore } from '../ssh/semaphore.ts';

/**
 * One hash at a time. Each costs 32 MiB of native memory while it runs (in libuv's pool of 4 threads), so four
 * logins at once raised the server's RSS by 128 MiB (bench: 143 -> 269 MiB peak); in turn, a burst of logins costs
 * 32 MiB above the steady state, and each waits for the hashes before it (tens of ms each).
 */
const oneHashAtATime = new Semaphore(1);

/** Hashes running and waiting (tests, diagnostics). */
export const passwordHashes = () => ({ running: oneHashAtATime.active, waiting: oneHashAtATime.queued });

async function scrypt(pw: string, salt: Buffer, len: number, o: ScryptOptions): Promise<Buffer> {
  const release = await oneHashAtATime.acquire();
  try {
    return await new Promise<Buffer>((res, rej) =>
      scryptCb(pw, salt, len, o, (e, k) => (e ? rej(e) : res(k))),
    );
  } finally {
    release();
  }
}

/** scrypt is memory-hard: N=2^15, r=8 costs 32 MiB per hash. Stored as scrypt$N$r$p$salt$hash. */
const N = 1 << 15;
const R = 8;
const P = 1;
const maxmem = 128 * N * R * 2;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { N, r: R, p: P, maxmem });
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 128 * Number(n) * Number(r) * 2,
  });
  return timingSafeEqual(key, expected);
}

/** A hash to compare against when the user does not exist, so timing does not reveal usernames. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
