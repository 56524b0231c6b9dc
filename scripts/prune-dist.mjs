// Removes what tsc left in dist/ from a source that no longer exists in lib/ (a file moved into a folder,
// say lib/tensor.ts into lib/tensor/). tsc only adds and overwrites; a stale dist/tensor.js would shadow
// dist/tensor/index.js for every require('./tensor'). Pruning after the compile, rather than deleting
// dist/ before it, leaves no moment without dist/ for a process that is using it meanwhile.
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const lib = join(root, 'lib');
const OUTPUT = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(at);
      if (readdirSync(at).length === 0) rmdirSync(at);
    } else if (OUTPUT.test(entry.name) && !existsSync(join(lib, relative(dist, at).replace(OUTPUT, '.ts')))) {
      rmSync(at);
    }
  }
}

if (existsSync(dist)) prune(dist);
