// SaslHandshake (key 17), versions 0-1, never flexible. Advertised only when SASL is on.
// After a v0 handshake the client sends its SASL messages as bare frames (no request header),
// which the connection handles; after v1 it sends SaslAuthenticate requests.
//
// SaslHandshake Request (Version: 1) => mechanism
// SaslHandshake Response (Version: 1) => error_code [mechanisms]

import { KafkaCode } from '../protocol/error-codes.js';
import { field } from '../protocol/schema.js';
import { defineApi } from './api.js';

interface Request {
  mechanism: string;
}
interface Response {
  errorCode: number;
  mechanisms: string[];
}

export const saslHandshakeApi = defineApi<Request, Response>({
  key: 17,
  name: 'SaslHandshake',
  versions: '0-1',
  flexible: 'none',
  beforeAuth: true,
  request: [field('mechanism', 'string')],
  response: [field('errorCode', 'int16'), field('mechanisms', '[]string')],
  handle(req, ctx) {
    const mechanisms: string[] = [...(ctx.broker.opts.sasl?.mechanisms ?? [])];
    if (ctx.broker.opts.sasl === null || ctx.conn.sasl !== 'none') {
      return { errorCode: KafkaCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    if (!mechanisms.includes(req.mechanism)) {
      return { errorCode: KafkaCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    ctx.conn.saslMechanism = req.mechanism;
    ctx.conn.sasl = ctx.apiVersion === 0 ? 'handshaken-v0' : 'handshaken';
    return { errorCode: 0, mechanisms };
  },
});
