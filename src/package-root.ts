import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Sluice's own package.json: the checkout when run from sources (tsx), the installed
 * package when run from its compiled dist/. Files shipped beside the code (package.json, the demo
 * models under examples/) are found from here, never relative to a compiled file's own folder,
 * which differs between the two layouts (src/cli/ vs dist/src/cli/).
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
