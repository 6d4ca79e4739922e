import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random run token (256 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison: hash both sides first so lengths do not leak either. */
export function tokensMatch(given: string, expected: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(given), h(expected));
}
