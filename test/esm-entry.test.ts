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
  const exported = Object.keys(torchrnn);

  it('re-exports every value lib/index.ts exports', () => {
    const missing = exported.filter((name) => !esmNames().includes(name));
    expect(missing).toEqual([]);
  });

  it('re-exports nothing lib/index.ts does not export', () => {
    const extra = esmNames().filter((name) => !exported.includes(name));
    expect(extra).toEqual([]);
  });
});
