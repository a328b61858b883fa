// The `kinesis://STREAM?region=REGION&endpoint=URL` URL form, shared by the Kinesis source
// (connectors) and sink (actions). No AWS SDK types here: the public API's types must compile
// where the optional SDK is not installed.

/** Where a Kinesis stream is: its name, region and (for kinesalite or a VPC endpoint) the endpoint. */
export interface KinesisTarget {
  stream: string;
  /** AWS region; default AWS_REGION / AWS_DEFAULT_REGION / the AWS config file, as the SDK finds it. */
  region?: string;
  /** e.g. http://127.0.0.1:4567 (kinesalite, LocalStack); default the region's AWS endpoint. */
  endpoint?: string;
}

/** A `kinesis://` URL that cannot be used, with why. */
export class KinesisUrlError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'KinesisUrlError';
  }
}

/**
 * `kinesis://STREAM?region=REGION&endpoint=URL` (both parameters optional) to its parts; the
 * other query parameters are returned for the caller's options.
 *
 * @example
 * parseKinesisUrl('kinesis://tx?region=eu-west-1'); // { stream: 'tx', region: 'eu-west-1', query }
 */
export function parseKinesisUrl(url: string): KinesisTarget & { query: URLSearchParams } {
  const m = /^kinesis:\/\/([^/?#]*)\/?(\?[^#]*)?$/i.exec(url);
  if (!m) throw new KinesisUrlError('write it as kinesis://STREAM?region=REGION[&endpoint=URL]');
  const stream = decodeURIComponent(m[1]!);
  // Kinesis stream names: 1-128 of letters, digits, "_", "-" and ".".
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(stream))
    throw new KinesisUrlError(
      `"${stream}" is not a stream name (1-128 letters, digits, "_", "-", "."): kinesis://STREAM?region=REGION`,
    );
  const query = new URLSearchParams(m[2] ?? '');
  const endpoint = query.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/i.test(endpoint))
    throw new KinesisUrlError(`endpoint "${endpoint}" must be an http(s):// URL, e.g. http://127.0.0.1:4567`);
  return { stream, region: query.get('region') ?? undefined, endpoint, query };
}

/**
 * What Sluice calls on a Kinesis client; the SDK's `KinesisClient` fits (tests wrap one to inject
 * faults). Typed loosely so that the public API does not name the optional SDK's types.
 */
export interface KinesisSender {
  send(command: never): Promise<unknown>;
}
