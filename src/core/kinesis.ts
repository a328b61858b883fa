// The AWS SDK's Kinesis client for the Kinesis source (connectors) and sink (actions), loaded on
// first use. Only this file names the SDK's types: the package's public types must compile where
// the SDK is not installed. @aws-sdk/client-kinesis is an optional peer dependency (it and its @smithy/@aws-sdk
// dependencies are ~10 MB that pipelines without Kinesis should not install), so its absence is
// a clear error saying how to install it.

import { createRequire } from 'node:module';
import type * as KinesisSdk from '@aws-sdk/client-kinesis';
import type { KinesisTarget } from './kinesis-url.js';
import { SluiceError } from './errors.js';

export type KinesisModule = typeof KinesisSdk;
export type KinesisClient = KinesisSdk.KinesisClient;

let loading: Promise<KinesisModule> | undefined;

/**
 * The AWS SDK's Kinesis client module, imported on first use. Throws an Error that says how to
 * install it when it is missing.
 */
export function loadKinesis(): Promise<KinesisModule> {
  loading ??= import('@aws-sdk/client-kinesis').then(
    (m) => m,
    (cause: unknown) => {
      loading = undefined;
      const missing = (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      throw new SluiceError(
        missing ? 'SLUICE_OPTION_DEPENDENCY_MISSING' : 'SLUICE_SOURCE_UNAVAILABLE',
        missing
          ? 'Kinesis sources and sinks run on the AWS SDK, which is not installed: npm install @aws-sdk/client-kinesis'
          : `could not load @aws-sdk/client-kinesis: ${(cause as Error).message}`,
        { cause },
      );
    },
  );
  return loading;
}

/**
 * A Kinesis client for `target`, credentials from the SDK's default chain (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, SSO, container and instance roles). It speaks
 * HTTP/1.1 with keep-alive: the SDK's default for Kinesis is HTTP/2, which only enhanced fan-out
 * needs and which kinesalite and some proxies do not speak.
 */
export function kinesisClient(sdk: KinesisModule, target: KinesisTarget): KinesisClient {
  // @smithy/node-http-handler is a dependency of the client package: resolve it from there.
  const fromSdk = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-kinesis'));
  const { NodeHttpHandler } = fromSdk('@smithy/node-http-handler') as {
    NodeHttpHandler: new (o: object) => object;
  };
  return new sdk.KinesisClient({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
    // Throttling is retried by Sluice's own backoff, which knows the per-shard limits.
    maxAttempts: 3,
  } as KinesisSdk.KinesisClientConfig);
}

/** The AWS error name of an SDK failure (e.g. 'ProvisionedThroughputExceededException'). */
export function awsErrorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}
