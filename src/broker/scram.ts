// SASL/SCRAM-SHA-256 and -512 (RFC 5802, RFC 7677), the server side, as Kafka brokers speak it:
// two client messages, two answers. The broker never stores or compares plain passwords here:
// each user's StoredKey and ServerKey are derived once at start (PBKDF2 with a random salt),
// and a client proves it knows the password without sending it.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's minimum (and librdkafka's default) iteration count. */
const ITERATIONS = 4096;

interface Credential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const HASH: Record<ScramMechanism, { name: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { name: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { name: 'sha512', bytes: 64 },
};

function hmac(hash: string, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/**
 * The salted keys of every user, per mechanism, derived once. Unknown users get a salt derived
 * from a per-process secret, so the first answer looks the same for users that exist and users
 * that do not (user names are not disclosed); their exchange then fails at the proof.
 *
 * @example
 * const creds = new ScramCredentials({ alice: 'secret' });
 * const exchange = new ScramExchange('SCRAM-SHA-256', creds);
 */
export class ScramCredentials {
  private readonly byMechanism = new Map<ScramMechanism, Map<string, Credential>>();
  private readonly decoySecret = randomBytes(32);

  /** `saltOf` fixes salts (for known-answer tests); by default each is random. */
  constructor(
    users: Readonly<Record<string, string>>,
    saltOf: (user: string) => Buffer = () => randomBytes(16),
  ) {
    for (const mechanism of SCRAM_MECHANISMS) {
      const { name, bytes } = HASH[mechanism];
      const map = new Map<string, Credential>();
      for (const [user, password] of Object.entries(users)) {
        const salt = saltOf(user);
        const salted = pbkdf2Sync(password.normalize('NFKC'), salt, ITERATIONS, bytes, name);
        map.set(user, {
          salt,
          storedKey: createHash(name)
            .update(hmac(name, salted, 'Client Key'))
            .digest(),
          serverKey: hmac(name, salted, 'Server Key'),
        });
      }
      this.byMechanism.set(mechanism, map);
    }
  }

  lookup(mechanism: ScramMechanism, user: string): Credential | undefined {
    return this.byMechanism.get(mechanism)!.get(user);
  }

  decoySalt(user: string): Buffer {
    return hmac('sha256', this.decoySecret, user).subarray(0, 16);
  }
}

/** What one step of an exchange answers: bytes for the client, or a failure (reason for logs only). */
export type ScramStep = { ok: true; reply: Buffer; user?: string } | { ok: false; reason: string };

/** `a=1,b=2` attributes of a SCRAM message; values may contain '='. */
function attributes(parts: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of parts) {
    if (p.length < 2 || p[1] !== '=') continue;
    out.set(p[0]!, p.slice(2));
  }
  return out;
}

/** RFC 5802 saslname: ',' and '=' are sent as =2C and =3D; any other '=' is malformed. */
function decodeSaslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const fail = (reason: string): ScramStep => ({ ok: false, reason });

/**
 * One client's SCRAM exchange: `first()` answers the client-first message with the salt,
 * iterations and a combined nonce; `final()` checks the client's proof and answers with the
 * server signature (so the client knows the server holds its credential too).
 */
export class ScramExchange {
  private step: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';

  /** `serverNonce` is fixed only by known-answer tests; by default 18 random bytes. */
  constructor(
    readonly mechanism: ScramMechanism,
    private readonly credentials: ScramCredentials,
    private readonly serverNonce: () => string = () => randomBytes(18).toString('base64'),
  ) {}

  get expectsFinal(): boolean {
    return this.step === 'final';
  }

  first(message: Buffer): ScramStep {
    if (this.step !== 'first') return fail('client-first message out of order');
    this.step = 'done';
    const text = message.toString('utf8');
    // gs2-header: "n,," or "n,a=authzid," (no channel binding: "y"/"p=" are refused).
    const m = /^(n|y),(a=[^,]*)?,(.*)$/s.exec(text);
    if (m === null) return fail('malformed client-first message (channel binding is not supported)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const attrs = attributes(this.clientFirstBare.split(','));
    const user = decodeSaslName(attrs.get('n') ?? '');
    const clientNonce = attrs.get('r') ?? '';
    if (user === null || user === '' || clientNonce === '' || attrs.has('m')) {
      return fail('malformed client-first message');
    }
    const authzid = m[2] === undefined ? '' : decodeSaslName(m[2].slice(2));
    if (authzid !== '' && authzid !== user) return fail('acting for another identity is not supported');
    this.user = user;
    this.nonce = clientNonce + this.serverNonce();
    const salt = this.credentials.lookup(this.mechanism, user)?.salt ?? this.credentials.decoySalt(user);
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${ITERATIONS}`;
    this.step = 'final';
    return { ok: true, reply: Buffer.from(this.serverFirst) };
  }

  final(message: Buffer): ScramStep {
    if (this.step !== 'final') return fail('client-final message out of order');
    this.step = 'done';
    const text = message.toString('utf8');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return fail('client-final message has no proof');
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof.split(','));
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) {
      return fail('channel binding data does not match the client-first message');
    }
    // RFC 5802 wants the combined nonce back; librdkafka (up to at least 2.0) sends its own
    // nonce once more in front of it. Kafka accepts any nonce that ends with the combined one,
    // and so do we: the proof covers the server-first message, so a replay fails regardless.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) return fail('nonce does not match');
    const credential = this.credentials.lookup(this.mechanism, this.user);
    const { name, bytes } = HASH[this.mechanism];
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (credential === undefined || proof.length !== bytes) return fail('invalid credentials');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(name, credential.storedKey, authMessage);
    const clientKey = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const stored = createHash(name).update(clientKey).digest();
    if (!timingSafeEqual(stored, credential.storedKey)) return fail('invalid credentials');
    const serverSignature = hmac(name, credential.serverKey, authMessage);
    return { ok: true, reply: Buffer.from(`v=${serverSignature.toString('base64')}`), user: this.user };
  }
}

/** True for the mechanisms this module serves. */
export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}
