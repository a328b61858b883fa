// SASL authentication of broker connections: PLAIN (RFC 4616) and SCRAM-SHA-256/512 (scram.ts).
// PLAIN passwords are compared in constant time over their SHA-256 digests (equal lengths
// whatever was sent), and never logged or echoed. One `saslStep` serves both ways clients carry
// the exchange: SaslAuthenticate requests (after SaslHandshake v1) and bare frames (after v0).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { BrokerState, ConnectionInfo } from './apis/api.js';
import { isScramMechanism, ScramExchange, type ScramStep } from './scram.js';

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

/** SASL mechanisms a broker can offer, in the order SaslHandshake lists them. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/**
 * One step of the connection's SASL exchange with the client's bytes: the answer to send, and
 * `authenticated` once the exchange succeeded. A failure has a reason for the broker's log
 * (never a secret) and ends the exchange.
 */
export function saslStep(
  conn: ConnectionInfo,
  broker: BrokerState,
  bytes: Buffer,
): ScramStep & { authenticated?: boolean } {
  const sasl = broker.opts.sasl;
  const mechanism = conn.saslMechanism;
  if (sasl === null || mechanism === null) return { ok: false, reason: 'no SASL mechanism was chosen' };
  if (mechanism === 'PLAIN') {
    const user = verifyPlain(bytes, sasl.users);
    if (user === null) return { ok: false, reason: 'invalid username or password' };
    conn.user = user;
    conn.sasl = 'authenticated';
    return { ok: true, reply: Buffer.alloc(0), authenticated: true };
  }
  if (!isScramMechanism(mechanism) || broker.scram === null) {
    return { ok: false, reason: `mechanism ${mechanism} is not enabled` };
  }
  conn.scram ??= new ScramExchange(mechanism, broker.scram);
  const step = conn.scram.expectsFinal ? conn.scram.final(bytes) : conn.scram.first(bytes);
  if (step.ok && step.user !== undefined) {
    conn.user = step.user;
    conn.sasl = 'authenticated';
    conn.scram = null;
    return { ...step, authenticated: true };
  }
  return step;
}
