// The `sluice broker` flags that keep a client from exhausting the broker: request size until
// authenticated, receive / idle / authentication timeouts, connection caps and the backoff
// after failed authentication. Unset flags leave the broker's defaults (options.ts).

import type { BrokerOptions } from '../../broker/index.js';
import { intFlag, type FlagValue } from '../args.js';

type LimitOption = keyof Pick<
  BrokerOptions,
  | 'maxUnauthenticatedRequestBytes'
  | 'requestReceiveTimeoutMs'
  | 'idleTimeoutMs'
  | 'authTimeoutMs'
  | 'maxConnections'
  | 'maxConnectionsPerIp'
  | 'authFailureDelayMs'
  | 'maxAuthFailureDelayMs'
>;

/** flag -> broker option, with the range a flag value must be in. */
const LIMIT_FLAGS: Record<string, { option: LimitOption; min: number; max: number }> = {
  'max-unauthenticated-request-bytes': {
    option: 'maxUnauthenticatedRequestBytes',
    min: 1024,
    max: 2 ** 31 - 1,
  },
  'request-receive-timeout-ms': { option: 'requestReceiveTimeoutMs', min: 100, max: 2 ** 31 - 1 },
  'idle-timeout-ms': { option: 'idleTimeoutMs', min: 0, max: 2 ** 31 - 1 },
  'auth-timeout-ms': { option: 'authTimeoutMs', min: 100, max: 2 ** 31 - 1 },
  'max-connections': { option: 'maxConnections', min: 1, max: 1_000_000 },
  'max-connections-per-ip': { option: 'maxConnectionsPerIp', min: 1, max: 1_000_000 },
  'auth-failure-delay-ms': { option: 'authFailureDelayMs', min: 0, max: 60_000 },
  'max-auth-failure-delay-ms': { option: 'maxAuthFailureDelayMs', min: 0, max: 600_000 },
};

/** The `parseFlags` spec of these flags. */
export const BROKER_LIMIT_FLAGS = Object.fromEntries(
  Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
);

export const BROKER_LIMITS_USAGE = `Limits (a client cannot exhaust the broker):
  --max-unauthenticated-request-bytes N  largest request before SASL authentication (default 65536)
  --request-receive-timeout-ms N  a request must arrive whole within N ms of its first byte (default 30000)
  --idle-timeout-ms N             close connections idle for N ms; 0 = never (default 600000)
  --auth-timeout-ms N             with SASL: close connections not authenticated within N ms (default 30000)
  --max-connections N             open connections at most (default 1000)
  --max-connections-per-ip N      open connections from one address at most (default 200)
  --auth-failure-delay-ms N       after a failed login, the next attempt from that address waits N ms,
                                  doubling per failure (default 100)
  --max-auth-failure-delay-ms N   cap of that wait (default 5000)
`;

/**
 * The broker options set by these flags (only those given).
 *
 * @example
 * startBroker({ dataDir, ...brokerLimitOptions(values) });
 */
export function brokerLimitOptions(values: Record<string, FlagValue>): Partial<BrokerOptions> {
  const out: Partial<BrokerOptions> = {};
  for (const [flag, { option, min, max }] of Object.entries(LIMIT_FLAGS)) {
    if (values[flag] !== undefined) out[option] = intFlag(values[flag], flag, 0, min, max);
  }
  return out;
}
