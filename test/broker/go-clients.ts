// Builds the Go clients of the interop matrix (test/broker/clients/go/<name>/main.go) offline,
// against Debian's packaged sources: golang-go, golang-github-shopify-sarama-dev and
// golang-github-segmentio-kafka-go-dev put sarama 1.22 and kafka-go 0.2 with their
// dependencies under /usr/share/gocode/src. GOPATH mode (GO111MODULE=off) compiles them from
// there with no module proxy and no network. A binary is cached in the temp dir under a hash of
// its source and the Go version, so a second test run does not compile again.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './processes.js';

const GOPATH = '/usr/share/gocode';
const sources = new URL('./clients/go/', import.meta.url).pathname;

/** The Debian package whose sources each Go client needs. */
export const GO_PACKAGES: Record<string, string> = {
  sarama: 'github.com/Shopify/sarama',
  kafkago: 'github.com/segmentio/kafka-go',
};

/**
 * Builds `test/broker/clients/go/<name>` and resolves with the binary's path, or with a reason
 * (a string starting with "unavailable:") when Go or the library's Debian package is missing.
 * A compile error rejects: that is a broken test, not a missing service.
 */
export async function buildGoClient(name: string): Promise<{ path: string } | { unavailable: string }> {
  if (!existsSync(join(GOPATH, 'src', GO_PACKAGES[name]))) {
    return { unavailable: `${GO_PACKAGES[name]} is not under ${GOPATH}/src (Debian package missing)` };
  }
  let goVersion: string;
  try {
    const v = await run('go', ['version'], { timeoutMs: 30_000 });
    if (v.code !== 0) return { unavailable: `go version failed: ${v.stderr}` };
    goVersion = v.stdout.trim();
  } catch {
    return { unavailable: 'go (Debian golang-go) is not installed' };
  }
  const main = readFileSync(join(sources, name, 'main.go'));
  const hash = createHash('sha256').update(goVersion).update(main).digest('hex').slice(0, 16);
  const cacheDir = join(tmpdir(), 'sluice-go-clients');
  const binary = join(cacheDir, `${name}-${hash}`);
  if (existsSync(binary)) return { path: binary };
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, `${name}-build-`));
  try {
    const out = join(work, name);
    const r = await runGo(['build', '-o', out, '.'], join(sources, name), join(work, 'cache'));
    if (r.code !== 0) throw new Error(`go build of ${name} failed:\n${r.stderr}`);
    renameSync(out, binary); // atomic: a parallel run sees either no binary or a whole one
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { path: binary };
}

/** `go ARGS` in `cwd`, offline: GOPATH mode on Debian's sources, no proxy, a private build cache. */
function runGo(args: string[], cwd: string, cache: string) {
  const env = {
    ...process.env,
    GOPATH,
    GO111MODULE: 'off',
    GOPROXY: 'off',
    GOFLAGS: '',
    GOCACHE: cache,
    CGO_ENABLED: '1', // sarama's zstd is DataDog/zstd, a cgo binding of libzstd
  };
  return run('go', args, { cwd, env, timeoutMs: 300_000 });
}
