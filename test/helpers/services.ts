import { spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/** True when CI asked for every integration test to run (a missing service then fails the test). */
export const REQUIRE_SERVICES = process.env.SLUICE_REQUIRE_SERVICES === '1';

/** Resolves true when something accepts TCP connections on host:port within `timeoutMs`. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** A TCP port free on 127.0.0.1 right now (for a server a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** True when `cmd` can be run (e.g. `kcat -V`). */
export function commandExists(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error;
}

/**
 * The `skip` option for a test that needs an outside service: `false` when it is there, else
 * the reason (printed by the runner). Under SLUICE_REQUIRE_SERVICES=1 a missing service throws,
 * so CI fails instead of skipping.
 *
 * @example
 * it('writes to Postgres', { skip: await needService('postgres on 5432', () => portOpen(5432)) }, async () => { ... });
 */
export async function needService(
  what: string,
  available: () => boolean | Promise<boolean>,
): Promise<string | false> {
  if (await available()) return false;
  const reason = `${what} is not available`;
  if (REQUIRE_SERVICES) throw new Error(`${reason}, and SLUICE_REQUIRE_SERVICES=1 requires it`);
  console.log(`# skipped: ${reason}`);
  return reason;
}
