import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the greeter contract relative to the protos/ directory (its import path). */
export const GREETER_PROTO = 'greeter/v1/greeter.proto';

/**
 * Finds the repo's protos/ directory by walking up from this file.
 *
 * Walking up (rather than a fixed "../..") works both for server/src/*.ts under tsx and for
 * dist/server/src/*.js in the image, where protos/ sits next to dist/.
 */
export function findProtosDir(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'protos');
    if (existsSync(join(candidate, GREETER_PROTO))) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`cannot find protos/${GREETER_PROTO} in ${start} or any parent directory`);
    }
  }
}
