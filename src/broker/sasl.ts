// SASL/PLAIN (RFC 4616) verification. Passwords are compared in constant time over their
// SHA-256 digests (equal lengths whatever was sent), and never logged or echoed.

import { createHash, timingSafeEqual } from 'node:crypto';

function digest(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Checks a PLAIN token `authzid NUL authcid NUL passwd` against `users`; returns the user
 * name when it matches, else null.
 *
 * @example
 * verifyPlain(Buffer.from('\u0000alice\u0000secret'), { alice: 'secret' }); // 'alice'
 */
export function verifyPlain(token: Buffer, users: Readonly<Record<string, string>>): string | null {
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0) return null;
  const authzid = token.toString('utf8', 0, first);
  const user = token.toString('utf8', first + 1, second);
  const password = token.subarray(second + 1);
  // Acting for another identity (authzid) is not supported: it must be empty or the user itself.
  if (user === '' || (authzid !== '' && authzid !== user)) return null;
  const expected = Object.prototype.hasOwnProperty.call(users, user) ? users[user] : undefined;
  // Compare even for unknown users, so timing does not tell which user names exist.
  const same = timingSafeEqual(digest(password), digest(expected ?? '\u0000no such user'));
  return same && expected !== undefined ? user : null;
}
