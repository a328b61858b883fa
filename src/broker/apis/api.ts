// What every API module exports: its key, advertised versions, request/response specs and a
// handler. The connection decodes with `request`, calls `handle`, encodes with `response`.

import type { Log } from '../../log/index.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { AppendNotifier } from '../append-notifier.js';
import type { ResolvedBrokerOptions } from '../options.js';
import type { ProducerTable } from '../producers.js';
import type { ScramCredentials, ScramExchange } from '../scram.js';
import { MessageSchema, parseVersions, type FieldDef } from '../protocol/schema.js';
import type { TopicManager } from '../topics.js';
import type { TransactionCoordinator } from '../txn/coordinator.js';

/** Returned by a handler when the request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('sluice.broker.noResponse');

/** An API key and the versions of it this broker serves. */
export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** Broker-wide state the handlers share. */
export interface BrokerState {
  readonly log: Log;
  /** What ApiVersions advertises (the SASL APIs only when SASL is on). */
  readonly apiRanges: readonly ApiRange[];
  readonly opts: ResolvedBrokerOptions;
  readonly topics: TopicManager;
  readonly groups: GroupCoordinator;
  readonly producers: ProducerTable;
  /** Transactional ids and their transactions (KIP-98). */
  readonly txns: TransactionCoordinator;
  readonly appends: AppendNotifier;
  /** SCRAM keys derived from the SASL users at start; null without SASL. */
  readonly scram: ScramCredentials | null;
  /** Reports a notable event (never with secrets in it). */
  warn(message: string): void;
}

/** SASL progress of one connection. */
export type SaslStage = 'none' | 'handshaken' | 'handshaken-v0' | 'authenticated';

/** What a handler may know and change about the connection its request came on. */
export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  /** The address the client reached this broker on: what Metadata advertises by default. */
  readonly localAddress: string;
  readonly localPort: number;
  sasl: SaslStage;
  /** The mechanism chosen by SaslHandshake (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  saslMechanism: string | null;
  /** A SCRAM exchange between its two client messages. */
  scram: ScramExchange | null;
  user: string | null;
  readonly closed: boolean;
  /** Runs `fn` when the connection closes (e.g. to stop a long poll); returns an unsubscribe. */
  onClose(fn: () => void): () => void;
  /** Closes the connection once the response to the current request is sent (failed SASL). */
  closeAfterResponse(): void;
}

/** Passed to every handler. */
export interface RequestContext {
  readonly broker: BrokerState;
  readonly conn: ConnectionInfo;
  readonly apiVersion: number;
  readonly clientId: string | null;
}

export type HandlerResult<Res> = Res | typeof NO_RESPONSE;

/** One Kafka API as this broker implements it. */
export interface Api<Req = unknown, Res = object> {
  readonly key: number;
  readonly name: string;
  /** The versions decoded and answered (some maybe only with UNSUPPORTED_VERSION). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The versions ApiVersions lists. */
  readonly advertisedMin: number;
  readonly advertisedMax: number;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
  /** Allowed before SASL authentication completes (ApiVersions and the SASL APIs). */
  readonly beforeAuth: boolean;
  handle(req: Req, ctx: RequestContext): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}

/** Declares an API from its spec-like field lists and its handler. */
export function defineApi<Req, Res extends object>(def: {
  key: number;
  name: string;
  /** Versions decoded and answered, e.g. '3-9'; the handler refuses the unimplemented ones. */
  versions: string;
  /** Versions ApiVersions lists, when not `versions` (e.g. Produce v0-2, listed for librdkafka). */
  advertised?: string;
  /** Versions using the flexible encoding, e.g. '9+' or 'none'. */
  flexible: string;
  request: FieldDef[];
  response: FieldDef[];
  beforeAuth?: boolean;
  handle(req: Req, ctx: RequestContext): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}): Api<Req, Res> {
  const [minVersion, maxVersion] = parseVersions(def.versions);
  const [advertisedMin, advertisedMax] = parseVersions(def.advertised ?? def.versions);
  return {
    key: def.key,
    name: def.name,
    minVersion,
    maxVersion,
    advertisedMin,
    advertisedMax,
    request: new MessageSchema({ name: `${def.name}Request`, flexible: def.flexible, fields: def.request }),
    response: new MessageSchema({
      name: `${def.name}Response`,
      flexible: def.flexible,
      fields: def.response,
    }),
    beforeAuth: def.beforeAuth ?? false,
    handle: def.handle,
  };
}
