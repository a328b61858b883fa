// SaslAuthenticate (key 36), versions 0-2, flexible from 2: carries the SASL messages after a v1
// SaslHandshake (one for PLAIN, two for SCRAM). A failed attempt is answered with error 58, then
// the connection is closed.
//
// SaslAuthenticate Request (Version: 2) => auth_bytes TAG_BUFFER
// SaslAuthenticate Response (Version: 2) => error_code error_message auth_bytes
//     session_lifetime_ms TAG_BUFFER                          (session_lifetime_ms: v1+)

import { KafkaCode } from '../protocol/error-codes.js';
import { field } from '../protocol/schema.js';
import { saslStep } from '../sasl.js';
import { defineApi } from './api.js';

interface Request {
  authBytes: Buffer;
}
interface Response {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: number;
}

const EMPTY = Buffer.alloc(0);

export const saslAuthenticateApi = defineApi<Request, Response>({
  key: 36,
  name: 'SaslAuthenticate',
  versions: '0-2',
  flexible: '2+',
  beforeAuth: true,
  request: [field('authBytes', 'bytes')],
  response: [
    field('errorCode', 'int16'),
    field('errorMessage', 'string', '0+', { nullable: '0+' }),
    field('authBytes', 'bytes'),
    field('sessionLifetimeMs', 'int64', '1+'),
  ],
  handle(req, ctx) {
    if (ctx.broker.opts.sasl === null || ctx.conn.sasl !== 'handshaken') {
      ctx.conn.closeAfterResponse();
      return {
        errorCode: KafkaCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate must follow a successful SaslHandshake v1',
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
    const step = saslStep(ctx.conn, ctx.broker, req.authBytes);
    if (!step.ok) {
      ctx.conn.closeAfterResponse();
      ctx.broker.warn(
        `sluice broker: SASL/${ctx.conn.saslMechanism} authentication failed from ${ctx.conn.remoteAddress} (${step.reason})`,
      );
      return {
        errorCode: KafkaCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: 'Authentication failed: invalid username or password',
        authBytes: EMPTY,
        sessionLifetimeMs: 0,
      };
    }
    return { errorCode: 0, errorMessage: null, authBytes: step.reply, sessionLifetimeMs: 0 };
  },
});
