/**
 * The TypeScript a user reads compiles against the published types: every ```ts block of README.md and
 * docs/*.md, and every examples/**\/*.ts, is type-checked with `strict` and `noUncheckedIndexedAccess` in
 * a project that imports `torchrnn` by name, through package.json's `exports` (dist/ for `require`, esm/
 * for `import`), under the three module setups users have: NodeNext as ESM, NodeNext as CommonJS, and
 * Bundler. An error names the block's file and line. Each project also checks what the types promise
 * beyond the documents; the CommonJS one runs `import torchrnn from 'torchrnn'` compiled with
 * esModuleInterop, which must reach the library, and checks the names of forward's tuple members in its
 * declaration output (what an editor's hover shows).
 *
 * A block that is a fragment declares what it assumes in an HTML comment just above it, which the rendered
 * Markdown does not show:
 *
 *     <!-- types: declare const x: Tensor; declare const sd: StateDict; -->
 *
 * (prepended to the block; its types may come from the block's own imports, or be imported in the comment),
 * and a block that is not meant to compile (pseudo-code, a shape) says so: `<!-- types: illustrative -->`.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.join(__dirname, '..');
const TSC = require.resolve('typescript/bin/tsc');
const TIMEOUT = 120_000;

/** One piece of TypeScript to check, and where it comes from. */
interface Block {
  /** `README.md:29`: the file, and the line of the opening fence (or 1 for a whole file). */
  location: string;
  /** Declarations the block assumes, from its `<!-- types: ... -->` comment. */
  prelude: string;
  code: string;
  /** Line of `code`'s first line in its source file. */
  firstLine: number;
}

const MARKER = /^<!--\s*types:\s*([\s\S]*?)\s*-->$/;

/** The ```ts blocks of a Markdown file, with the declarations each one's marker comment gives. */
export function markdownBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(```+)\s*(ts|typescript)\s*$/.exec(lines[i]);
    if (fence === null) continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === fence[2]);
    if (end < 0) throw new Error(`${file}:${i + 1}: unterminated code block`);
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const marker = above >= 0 ? MARKER.exec(lines[above].trim()) : null;
    const directive = marker === null ? '' : marker[1];
    if (directive !== 'illustrative') {
      const indent = fence[1].length;
      blocks.push({
        location: `${file}:${i + 1}`,
        prelude: directive,
        code: lines.slice(i + 1, end).map((line) => line.slice(indent)).join('\n'),
        firstLine: i + 2,
      });
    }
    i = end;
  }
  return blocks;
}

/** Every file under `dir` (recursively) whose name ends with `suffix`, relative to the repository. */
function filesUnder(dir: string, suffix: string): string[] {
  if (!fs.existsSync(path.join(REPO, dir))) return [];
  return fs
    .readdirSync(path.join(REPO, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(relative, suffix);
      return entry.name.endsWith(suffix) && !entry.name.endsWith('.d.ts') ? [relative] : [];
    })
    .sort();
}

function collectBlocks(): Block[] {
  const markdown = ['README.md', ...filesUnder('docs', '.md')];
  const fromMarkdown = markdown.flatMap((file) => markdownBlocks(file, fs.readFileSync(path.join(REPO, file), 'utf8')));
  const examples = filesUnder('examples', '.ts').map((file) => ({
    location: `${file}:1`,
    prelude: '',
    code: fs.readFileSync(path.join(REPO, file), 'utf8'),
    firstLine: 1,
  }));
  return [...fromMarkdown, ...examples];
}

/** How a module setup turns a block into a file. */
interface Setup {
  name: string;
  packageType: 'module' | 'commonjs';
  compilerOptions: Record<string, unknown>;
  /** CommonJS has no top-level await: the block's statements go into an async function. */
  wrap: boolean;
}

const COMMON_OPTIONS = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: false,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  esModuleInterop: true,
  skipLibCheck: false,
  noEmit: true,
};

const SETUPS: Setup[] = [
  { name: 'nodenext-esm', packageType: 'module', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' }, wrap: false },
  {
    name: 'nodenext-cjs',
    packageType: 'commonjs',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', noEmit: false, outDir: 'out', declaration: true },
    wrap: true,
  },
  { name: 'bundler', packageType: 'module', compilerOptions: { module: 'preserve', moduleResolution: 'bundler' }, wrap: false },
];

/**
 * Splits `code` into its leading import declarations and the rest, so that the rest can be wrapped in a
 * function (imports must stay at the top level). Imports may span lines; comments and blank lines between
 * them stay with the imports.
 */
export function splitImports(code: string): { imports: string; body: string; bodyOffset: number } {
  const lines = code.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('//')) {
      i++;
    } else if (/^import\b/.test(line)) {
      while (i < lines.length && !/(from\s+)?['"][^'"]+['"];?\s*$/.test(lines[i])) i++;
      i++;
    } else {
      break;
    }
  }
  return { imports: lines.slice(0, i).join('\n'), body: lines.slice(i).join('\n'), bodyOffset: i };
}

/** Where a generated file's lines come from: the generated line of the block's first line, and the block. */
interface Origin {
  block: Block;
  /** 1-based generated line holding `block.code`'s first line (imports, when wrapped). */
  codeLine: number;
  /** When wrapped: 1-based generated line of the body's first line, and the body's offset in `code`. */
  body?: { line: number; offset: number };
}

function writeBlock(dir: string, index: number, block: Block, setup: Setup): [string, Origin] {
  const name = `block${String(index).padStart(3, '0')}.ts`;
  const header = `// ${block.location}\n${block.prelude}\n`;
  const headerLines = header.split('\n').length - 1;
  let text: string;
  let origin: Origin;
  if (setup.wrap) {
    const { imports, body, bodyOffset } = splitImports(block.code);
    const importLines = imports === '' ? 0 : imports.split('\n').length;
    text = `${header}${imports === '' ? '' : `${imports}\n`}export async function block(): Promise<void> {\n${body}\n}\n`;
    origin = { block, codeLine: headerLines + 1, body: { line: headerLines + importLines + 2, offset: bodyOffset } };
  } else {
    text = `${header}${block.code}\nexport {};\n`;
    origin = { block, codeLine: headerLines + 1 };
  }
  fs.writeFileSync(path.join(dir, name), text);
  return [name, origin];
}

/** The source location of a generated file's line, or the block's own location for lines outside its code. */
function sourceLine(origin: Origin, line: number): string {
  const file = origin.block.location.replace(/:\d+$/, '');
  if (origin.body !== undefined && line >= origin.body.line) {
    return `${file}:${origin.block.firstLine + origin.body.offset + (line - origin.body.line)}`;
  }
  if (line >= origin.codeLine) return `${file}:${origin.block.firstLine + (line - origin.codeLine)}`;
  return `${origin.block.location} (its <!-- types: --> declarations)`;
}

/** What every user of the package may rely on, beyond the documents: checked in each setup too. */
const CONTRACT = `
import torchrnn, { GRU, GRUCell, LSTM, LSTMCell, RNN, Tensor, type LSTMOptions } from 'torchrnn';

// The default export is the namespace, in every module format.
const lstm: LSTM = new torchrnn.LSTM(4, 3, { batchFirst: true });
const same: typeof torchrnn.LSTM = torchrnn.default.LSTM;
// The first layer's weights exist in every module: no undefined under noUncheckedIndexedAccess.
const w: Tensor = lstm.weight_ih_l0;
const wh: Tensor = lstm.weight_hh_l0;
// Other parameters depend on the configuration.
const bias: Tensor | undefined = lstm.bias_ih_l1;
// @ts-expect-error a misspelt parameter name is no parameter
void lstm.weight_ih_0;
// An LSTM's state may be a readonly tuple; results are tuples of the right arity.
const state = [Tensor.zeros([1, 2, 3]), Tensor.zeros([1, 2, 3])] as const;
const [output, [hN, cN]] = lstm.forward(Tensor.zeros([2, 5, 4]), state);
const [gruOut, gruH]: [Tensor, Tensor] = new GRU(4, 3, 2, { dropout: 0.5 }).forward(Tensor.zeros([5, 2, 4]));
const [rnnOut, rnnH] = new RNN({ inputSize: 4, hiddenSize: 3, nonlinearity: 'relu' }).forward(Tensor.zeros([5, 4]));
const [h1, c1] = new LSTMCell(4, 3).forward(Tensor.zeros([2, 4]), [h1x(), h1x()] as const);
const g1: Tensor = new GRUCell(4, 3, { bias: false }).forward(Tensor.zeros([2, 4]));
const options: LSTMOptions = { inputSize: 4, hiddenSize: 3, projSize: 2 };
// @ts-expect-error options are checked by name
void new LSTM(4, 3, { projSiz: 2 });
// @ts-expect-error a GRU has no projection
void new GRU(4, 3, { projSize: 2 });
function h1x(): Tensor {
  return Tensor.zeros([2, 3]);
}
export const used = [same, w, wh, bias, output, hN, cN, gruOut, gruH, rnnOut, rnnH, h1, c1, g1, options];
`;

/**
 * What an editor shows for each forward's result, as declaration emit writes it (out/labels.d.ts in the
 * CommonJS project): the tuples' members are named.
 */
const LABELS = `
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, Tensor } from 'torchrnn';
declare const x: Tensor;
export const lstm = new LSTM(2, 3).forward(x);
export const gru = new GRU(2, 3).forward(x);
export const rnn = new RNN(2, 3).forward(x);
export const lstmCell = new LSTMCell(2, 3).forward(x);
export const gruCell = new GRUCell(2, 3).forward(x);
export const rnnCell = new RNNCell(2, 3).forward(x);
`;

/** Runs in the CommonJS project after compiling with esModuleInterop: the default import reaches the library. */
const DEFAULT_IMPORT = `
import torchrnn from 'torchrnn';
import * as named from 'torchrnn';
console.log(JSON.stringify({ lstm: torchrnn.LSTM === named.LSTM, tensor: typeof torchrnn.tensor }));
`;

/** Builds dist/ when it is missing or older than lib/, as the published types are dist's and esm's. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const file = path.join(dir, entry.name);
      const time = entry.isDirectory() ? newest(file) : entry.name.endsWith('.ts') ? fs.statSync(file).mtimeMs : 0;
      return Math.max(latest, time);
    }, 0);
  const built = path.join(REPO, 'dist', 'index.d.ts');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(REPO, 'lib'))) {
    execFileSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'pipe' });
  }
}

let work: string;
let blocks: Block[];

beforeAll(() => {
  ensureBuilt();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-types-'));
  blocks = collectBlocks();
}, TIMEOUT);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A project for `setup` holding every block, `torchrnn` linked to this repository. */
function makeProject(setup: Setup): { dir: string; origins: Map<string, Origin> } {
  const dir = path.join(work, setup.name);
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'torchrnn'), 'dir');
  fs.symlinkSync(path.join(REPO, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `types-${setup.name}`, private: true, type: setup.packageType }));
  const origins = new Map<string, Origin>();
  blocks.forEach((block, i) => {
    const [name, origin] = writeBlock(dir, i, block, setup);
    origins.set(name, origin);
  });
  fs.writeFileSync(path.join(dir, 'contract.ts'), CONTRACT);
  fs.writeFileSync(path.join(dir, 'default-import.ts'), DEFAULT_IMPORT);
  fs.writeFileSync(path.join(dir, 'labels.ts'), LABELS);
  const compilerOptions = { ...COMMON_OPTIONS, ...setup.compilerOptions, typeRoots: ['./node_modules/@types'] };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }, null, 2));
  return { dir, origins };
}

/** tsc's errors, each with the document location it belongs to. */
function compile(dir: string, origins: Map<string, Origin>): string[] {
  const result = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: TIMEOUT });
  if (result.error) throw result.error;
  const output = `${result.stdout}${result.stderr}`;
  const errors = output
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .map((line) => {
      const at = /^(\S+?)\((\d+),(\d+)\): (.*)$/.exec(line);
      const origin = at === null ? undefined : origins.get(at[1]);
      return origin === undefined || at === null ? line : `${sourceLine(origin, Number(at[2]))}: ${at[4]}`;
    });
  if (result.status !== 0 && errors.length === 0) return [`tsc exited with ${result.status}: ${output}`];
  return errors;
}

describe('the documents', () => {
  it('hold TypeScript to check', () => {
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks.some((b) => b.location.startsWith('README.md:'))).toBe(true);
  });
});

describe.each(SETUPS)('the TypeScript of README.md, docs/ and examples/ under $name', (setup) => {
  it('compiles with strict and noUncheckedIndexedAccess', () => {
    const { dir, origins } = makeProject(setup);
    expect(compile(dir, origins)).toEqual([]);
    if (setup.packageType === 'commonjs') {
      const printed = execFileSync(process.execPath, [path.join('out', 'default-import.js')], { cwd: dir, encoding: 'utf8' });
      expect(JSON.parse(printed)).toEqual({ lstm: true, tensor: 'function' });
      const labels = fs
        .readFileSync(path.join(dir, 'out', 'labels.d.ts'), 'utf8')
        .replace(/<import\("torchrnn"\)\.FloatDType>/g, '')
        .split('\n')
        .filter((line) => line.startsWith('export declare const'));
      expect(labels).toEqual([
        'export declare const lstm: [output: Tensor, hidden: [hN: Tensor, cN: Tensor]];',
        'export declare const gru: [output: Tensor, hN: Tensor];',
        'export declare const rnn: [output: Tensor, hN: Tensor];',
        'export declare const lstmCell: [h1: Tensor, c1: Tensor];',
        'export declare const gruCell: Tensor;',
        'export declare const rnnCell: Tensor;',
      ]);
    }
  }, TIMEOUT);
});

describe('the block extraction', () => {
  const markdown = [
    'Text.',
    '<!-- types: declare const x: number; -->',
    '```ts',
    'const y = x + 1;',
    '```',
    '',
    '<!-- types: illustrative -->',
    '',
    '```ts',
    'not typescript',
    '```',
    '   ```ts',
    '   const z = 1;',
    '   ```',
  ].join('\n');

  it('takes the declarations above a block, skips illustrative blocks, and unindents', () => {
    expect(markdownBlocks('X.md', markdown)).toEqual([
      { location: 'X.md:3', prelude: 'declare const x: number;', code: 'const y = x + 1;', firstLine: 4 },
      { location: 'X.md:12', prelude: '', code: 'const z = 1;', firstLine: 13 },
    ]);
  });

  it('keeps imports, multi-line ones included, out of the wrapped body', () => {
    const code = "import { A } from 'a';\nimport {\n  B,\n} from 'b';\n// note\nconst c = 1;\nawait f();";
    expect(splitImports(code)).toEqual({ imports: "import { A } from 'a';\nimport {\n  B,\n} from 'b';\n// note", body: 'const c = 1;\nawait f();', bodyOffset: 5 });
  });
});
