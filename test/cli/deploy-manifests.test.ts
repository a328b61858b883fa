// deploy/: the Kubernetes manifests and the Dockerfile use only flags the commands have, and
// probe the paths the processes serve (docs/deploy.md). No cluster or image build here: this
// keeps the manifests from drifting away from the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** The container `args:` lists of a manifest, one array per container. */
function argLists(yaml: string): string[][] {
  const lists: string[][] = [];
  let current: string[] | undefined;
  let indent = -1;
  for (const line of yaml.split('\n')) {
    const m = /^(\s*)args:\s*$/.exec(line);
    if (m) {
      current = [];
      lists.push(current);
      indent = m[1]!.length;
      continue;
    }
    const item = /^(\s*)- (.*)$/.exec(line);
    if (current && item && item[1]!.length >= indent) current.push(item[2]!.replace(/^'(.*)'$/, '$1'));
    else current = undefined;
  }
  return lists;
}

const help = (command: string) => {
  const r = spawnSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' });
  return r.stdout + r.stderr;
};

describe('deploy/ manifests', () => {
  for (const file of ['deploy/k8s/broker.yaml', 'deploy/k8s/workers.yaml']) {
    it(`${file}: every flag exists in the command's --help, probes on /healthz and /readyz`, () => {
      const yaml = read(file);
      const lists = argLists(yaml);
      assert.ok(lists.length > 0, 'a container with args');
      for (const args of lists) {
        const usage = help(args[0]!);
        for (const flag of args.filter((a) => a.startsWith('--')))
          assert.match(usage, new RegExp(`\\n\\s+${flag}\\b`), `sluice ${args[0]} has no ${flag}`);
      }
      assert.match(yaml, /livenessProbe:\s*\n\s*httpGet: \{ path: \/healthz/);
      assert.match(yaml, /readinessProbe:\s*\n\s*httpGet: \{ path: \/readyz/);
      assert.match(yaml, /runAsNonRoot: true/);
    });
  }

  it('deploy/Dockerfile: two stages, production dependencies only, a non-root user', () => {
    const docker = read('deploy/Dockerfile');
    assert.equal((docker.match(/^FROM /gm) ?? []).length, 2);
    assert.match(docker, /npm ci --omit=dev/);
    assert.match(docker, /^USER node$/m);
  });
});
