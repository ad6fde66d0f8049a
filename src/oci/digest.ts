import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { digestProblem } from './reference.ts';

export class DigestMismatchError extends Error {
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: digest mismatch, expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Throws unless `digest` is a well-formed sha256/sha512 digest. */
export function assertDigest(digest: string): void {
  const problem = digestProblem(digest);
  if (problem) throw new Error(problem);
}

function hasherFor(digest: string) {
  assertDigest(digest);
  return createHash(digest.slice(0, digest.indexOf(':')));
}

/** Checks a complete buffer against a digest (and size when given). */
export function verifyDigest(what: string, data: Uint8Array, digest: string, size?: number): void {
  if (size !== undefined && data.byteLength !== size) {
    throw new Error(`${what}: size mismatch, expected ${size} bytes, got ${data.byteLength}`);
  }
  const actual = `${digest.slice(0, digest.indexOf(':'))}:${hasherFor(digest).update(data).digest('hex')}`;
  if (actual !== digest) throw new DigestMismatchError(what, digest, actual);
}

/**
 * Pass-through stream that hashes what flows through it and fails at the end
 * (or as soon as the size is exceeded) when content does not match.
 */
export class DigestVerifier extends Transform {
  #hash;
  #seen = 0;
  #what: string;
  #digest: string;
  #size?: number;

  constructor(what: string, digest: string, size?: number) {
    super();
    this.#hash = hasherFor(digest);
    this.#what = what;
    this.#digest = digest;
    this.#size = size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.byteLength;
    if (this.#size !== undefined && this.#seen > this.#size) {
      callback(new Error(`${this.#what}: more than the expected ${this.#size} bytes`));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#size !== undefined && this.#seen !== this.#size) {
      callback(new Error(`${this.#what}: size mismatch, expected ${this.#size} bytes, got ${this.#seen}`));
      return;
    }
    const actual = `${this.#digest.slice(0, this.#digest.indexOf(':'))}:${this.#hash.digest('hex')}`;
    callback(actual === this.#digest ? null : new DigestMismatchError(this.#what, this.#digest, actual));
  }
}
