#!/usr/bin/env node
// The `sluice` command. In a checkout (src/ present) it runs the TypeScript sources through tsx,
// so there is no build step to forget; an installed package runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(`${root}/src/cli/main.ts`)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/src/cli/main.js');
}
