// A child process of the directory-lock race test (dir-lock-race.test.ts). On each message
// `{ dir, at }` it spins until the wall clock reaches `at` (so the two racers call lockDir within
// microseconds of each other), tries to lock `dir`, answers whether it got the lock and keeps it
// until told `release`.
import { lockDir } from '../../src/log/dir-lock.js';

let unlock: (() => void) | null = null;
process.on('message', (msg: { dir?: string; at?: number; release?: boolean }) => {
  if (msg.release) {
    unlock?.();
    unlock = null;
    process.send!({ released: true });
    return;
  }
  while (Date.now() < msg.at!); // busy-wait: a timer would blur the start by milliseconds
  try {
    unlock = lockDir(msg.dir!);
    process.send!({ held: true });
  } catch (err) {
    process.send!({ held: false, code: (err as { code?: string }).code, message: (err as Error).stack });
  }
});
process.send!({ ready: true });
