// ApiVersions (key 18), versions 0-3, flexible from 3. Its response header is always v0, and
// a version this broker does not know is answered by the connection with error 35 and a v0
// body (see connection.ts), never by closing: clients retry with v0.
//
// ApiVersions Request (Version: 3) => client_software_name client_software_version TAG_BUFFER
//   client_software_name => COMPACT_STRING
//   client_software_version => COMPACT_STRING
// ApiVersions Response (Version: 3) => error_code [api_keys] throttle_time_ms TAG_BUFFER
//   error_code => INT16
//   api_keys => api_key min_version max_version TAG_BUFFER
//   throttle_time_ms => INT32            (v1+)

import { Writer } from '../protocol/writer.js';
import { array, field } from '../protocol/schema.js';
import { defineApi, type ApiRange } from './api.js';

interface Request {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}
interface Response {
  errorCode: number;
  apiKeys: readonly ApiRange[];
  throttleTimeMs?: number;
}

export const apiVersionsApi = defineApi<Request, Response>({
  key: 18,
  name: 'ApiVersions',
  versions: '0-3',
  flexible: '3+',
  beforeAuth: true,
  request: [field('clientSoftwareName', 'string', '3+'), field('clientSoftwareVersion', 'string', '3+')],
  response: [
    field('errorCode', 'int16'),
    array('apiKeys', '0+', [
      field('apiKey', 'int16'),
      field('minVersion', 'int16'),
      field('maxVersion', 'int16'),
    ]),
    field('throttleTimeMs', 'int32', '1+'),
  ],
  handle(_req, ctx) {
    return { errorCode: 0, apiKeys: ctx.broker.apiRanges, throttleTimeMs: 0 };
  },
});

/**
 * The whole response frame to an ApiVersions request of an unknown version: error 35
 * (UNSUPPORTED_VERSION) with a v0 body listing what is supported, under a v0 header.
 */
export function unsupportedApiVersionsFrame(correlationId: number, ranges: readonly ApiRange[]): Buffer[] {
  const w = new Writer().int32(0).int32(correlationId);
  apiVersionsApi.response.encode(w, 0, { errorCode: 35, apiKeys: ranges });
  const chunks = w.chunks();
  chunks[0].writeInt32BE(w.length - 4, 0);
  return chunks;
}
