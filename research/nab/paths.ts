// Where the research scripts find NAB-layout data by default: the shared data folder beside the
// repository (<repo>/../shared/data/nab). Kept here, not imported from the CLI, so the product
// and the research do not depend on each other's internals.

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const DEFAULT_NAB_DIR = join(
  fileURLToPath(new URL('../../..', import.meta.url)),
  'shared',
  'data',
  'nab',
);
