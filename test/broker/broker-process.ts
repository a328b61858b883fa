// `sluice broker` as a child process (bin/sluice.js broker --fsync batch), for the tests that
// kill it with SIGKILL and start it again on the same data directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

export interface BrokerProcess {
  child: ChildProcess;
  port: number;
  /** Lines the broker wrote to stderr so far. */
  stderr: string[];
  exited: Promise<number | null>;
}

/** Starts the broker on `dataDir` and `port` (0 = any free one); resolves once it listens. */
export function spawnBroker(dataDir: string, port = 0, partitions = 3): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'broker',
      '--port',
      String(port),
      '--data',
      dataDir,
      '--fsync',
      'batch',
      '--partitions',
      String(partitions),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start: ${stderr.join('\n')}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening on [^ ]+:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr, exited });
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr.join('\n')}`)));
  });
}
