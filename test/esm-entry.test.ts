/**
 * The ESM entry (esm/index.mjs) lists the library's exports by name; this holds that list to lib/index.ts,
 * so that a new export reaches `import { ... } from 'torchrnn'` as well as `require('torchrnn')`.
 * (test/package.test.ts imports the installed package for real; this is the quick check.)
 */
import * as fs from 'fs';
import * as path from 'path';
import * as torchrnn from '../lib';

/** The names in the entry's `export const { ... } = torchrnn;`. */
function esmNames(): string[] {
  const source = fs.readFileSync(path.join(__dirname, '..', 'esm', 'index.mjs'), 'utf8');
  const list = /export const \{([^}]*)\} = torchrnn;/.exec(source);
  if (list === null) throw new Error('esm/index.mjs has no `export const { ... } = torchrnn;`');
  return list[1]
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

describe('the ESM entry', () => {
  // `default` is not in the list: the entry's default export is the CommonJS exports object itself.
  const exported = Object.keys(torchrnn).filter((name) => name !== 'default');

  it('re-exports every value lib/index.ts exports', () => {
    const missing = exported.filter((name) => !esmNames().includes(name));
    expect(missing).toEqual([]);
  });

  it('re-exports nothing lib/index.ts does not export', () => {
    const extra = esmNames().filter((name) => !exported.includes(name));
    expect(extra).toEqual([]);
  });

  it('has as default export the exports object, as the CommonJS build does', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', 'esm', 'index.mjs'), 'utf8');
    expect(source).toMatch(/^import torchrnn from '\.\.\/dist\/index\.js';$/m);
    expect(source).toMatch(/^export default torchrnn;$/m);
  });
});

describe('the default export', () => {
  // What `import torchrnn from 'torchrnn'` reads in CommonJS compiled with esModuleInterop; without it, that
  // import compiles (the ESM entry's types declare a default) and then fails at run time.
  it('is the namespace itself', () => {
    expect(torchrnn.default).toBe(torchrnn);
    expect(torchrnn.default.LSTM).toBe(torchrnn.LSTM);
  });
});
