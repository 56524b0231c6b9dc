/**
 * The published package as a user meets it. The tarball installs with no network, from an empty npm cache
 * (its runtime dependencies packed from this repository's node_modules and installed beside it), and takes
 * the prebuilt binary with no compiler or Python on PATH; without a prebuild it builds from source; from ESM
 * and from CommonJS it gives PyTorch's numbers, also with the scalar kernels forced; when the binary
 * cannot load, the error says what was looked for and what to do; and it ships only what a user needs.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mismatches } from './helpers/close';
import type { ModuleCase } from './helpers/fixture_cases';
import { FixtureTensor, loadCases, toTensor } from './helpers/fixtures';
import {
  REPO,
  TOOLCHAIN,
  ReleaseTarballs,
  installTarball,
  packRelease,
  reachable,
  run,
  tarballFiles,
  toolchainFreeBin,
  userEnv,
  withEmptyNpmCache,
} from './helpers/package_sandbox';
import { packRuntimeDependencies } from './helpers/runtime_dependencies';

/** What the consumer scripts in helpers/consumer/ print. */
interface ConsumerReport {
  binary: string;
  backend: string;
  names?: string[];
  cjsNames?: string[];
  results: { output: FixtureTensor; h_n: FixtureTensor; c_n?: FixtureTensor };
}

// float32, three bidirectional layers, batch-first, a projection and a given initial state: one case
// that passes through most of the engine.
const CASE = loadCases<ModuleCase>('modules.json').find((c) => c.name === 'lstm-016') as ModuleCase;
const TUPLE = `${process.platform}-${process.arch}`;
const CONSUMER_SCRIPTS = path.join(__dirname, 'helpers', 'consumer');

const BUILD_TIMEOUT = 300_000;
const INSTALL_TIMEOUT = 120_000;
const RUN_TIMEOUT = 60_000;

let work: string;
let tarballs: ReleaseTarballs;
/** Tarballs of torchrnn's runtime dependencies, installed beside it (see helpers/runtime_dependencies). */
let dependencies: string[];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-package-'));
  tarballs = packRelease(work);
  const packEnv = withEmptyNpmCache(userEnv(), path.join(work, 'dependencies-npm-cache'));
  dependencies = packRuntimeDependencies(path.join(work, 'dependencies'), packEnv);
}, BUILD_TIMEOUT);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Puts the consumer scripts and the fixture case next to an installed project's package.json. */
function addConsumerScripts(project: string): void {
  for (const file of fs.readdirSync(CONSUMER_SCRIPTS)) {
    fs.copyFileSync(path.join(CONSUMER_SCRIPTS, file), path.join(project, file));
  }
  fs.writeFileSync(path.join(project, 'case.json'), JSON.stringify(CASE));
}

/** `env` with TORCHRNN_ISA as given, or absent, whatever this process has. */
function withIsa(env: NodeJS.ProcessEnv, isa: string | undefined): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.TORCHRNN_ISA;
  return isa === undefined ? copy : { ...copy, TORCHRNN_ISA: isa };
}

function runConsumer(project: string, script: string, env: NodeJS.ProcessEnv): ConsumerReport {
  return JSON.parse(run('node', [script], project, env)) as ConsumerReport;
}

function pytorchMismatches(report: ConsumerReport): string[] {
  const pairs: [ReturnType<typeof toTensor>, ReturnType<typeof toTensor>, string][] = [
    [toTensor(report.results.output), toTensor(CASE.output), 'output'],
    [toTensor(report.results.h_n), toTensor(CASE.h_n), 'h_n'],
  ];
  if (CASE.c_n) pairs.push([toTensor(report.results.c_n as FixtureTensor), toTensor(CASE.c_n), 'c_n']);
  return mismatches(pairs);
}

describe('the tarball', () => {
  it('ships the built library, its ESM entry, the prebuild and what a source build needs, and nothing else', () => {
    const files = tarballFiles(tarballs.prebuilt);
    // prebuildify --tag-libc names the C library as node-gyp-build decides it: musl on Alpine, else glibc
    // (also on macOS and Windows, where node-gyp-build matches the same default).
    const libc = fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
    for (const required of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'esm/index.mjs',
      'esm/index.d.mts',
      'binding.gyp',
      'native/binding/addon.cpp',
      `prebuilds/${TUPLE}/torchrnn.${libc}.node`,
    ]) {
      expect(files).toContain(required);
    }
    // The command-line tool's scripts, and the model its `demo` command runs, ship too.
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    const binScripts = Object.values(manifest.bin ?? {}).map((file) => path.posix.normalize(file));
    for (const script of binScripts) expect(files).toContain(script);
    // The documents the README links (test/readme-links.test.ts checks that each link resolves).
    const documents = [
      'docs/QUICKSTART.md',
      'docs/MODEL-FILES.md',
      'docs/INSTALL.md',
      'docs/DEPLOY.md',
      'docs/ARCHITECTURE.md',
      'docs/HARDENING.md',
      'examples/server/README.md',
    ];
    for (const document of documents) expect(files).toContain(document);
    const singles = [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      ...documents,
      'binding.gyp',
      'examples/demo/model.safetensors',
      'examples/demo/vocab.json',
    ];
    const stray = files.filter((f) => !singles.includes(f) && !/^(dist|esm|native|prebuilds)\//.test(f));
    expect(stray).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('holds no compiled JavaScript left over from a source file that no longer exists', () => {
    const files = tarballFiles(tarballs.source);
    const orphans = files
      .filter((f) => /^dist\/.*\.js$/.test(f))
      .filter((f) => !fs.existsSync(path.join(REPO, 'lib', f.slice('dist/'.length).replace(/\.js$/, '.ts'))));
    expect(orphans).toEqual([]);
  });

  it('without the prebuild differs from the release tarball by the prebuild alone', () => {
    const withoutPrebuild = tarballFiles(tarballs.source);
    const added = tarballFiles(tarballs.prebuilt).filter((f) => !withoutPrebuild.includes(f));
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((f) => !f.startsWith('prebuilds/'))).toEqual([]);
  });
});

describe('installed with its prebuild, with no compiler, Python or network', () => {
  let project: string;
  let installed: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    const bin = toolchainFreeBin(path.join(work, 'toolchain-free-bin'));
    env = userEnv({ PATH: bin });
    project = path.join(work, 'prebuilt-consumer');
    installed = installTarball(project, tarballs.prebuilt, dependencies, env);
    addConsumerScripts(project);
  }, INSTALL_TIMEOUT);

  it('had no build tool within reach during the install', () => {
    const found = TOOLCHAIN.filter((tool) => reachable(tool, env.PATH as string));
    expect(found).toEqual([]);
    expect(reachable('node', env.PATH as string)).toBe(true);
  });

  it('loads the prebuild and built nothing', () => {
    const report = runConsumer(project, 'forward.cjs', withIsa(env, undefined));
    expect(path.dirname(report.binary)).toBe(path.join(installed, 'prebuilds', TUPLE));
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  }, RUN_TIMEOUT);

  it('matches PyTorch from CommonJS with the scalar kernels forced by TORCHRNN_ISA', () => {
    const report = runConsumer(project, 'forward.cjs', withIsa(env, 'scalar'));
    expect(report.backend).toBe('scalar');
    expect(pytorchMismatches(report)).toEqual([]);
  }, RUN_TIMEOUT);

  it('matches PyTorch from ESM, with every CommonJS export importable by name', () => {
    const report = runConsumer(project, 'forward.mjs', withIsa(env, undefined));
    expect(pytorchMismatches(report)).toEqual([]);
    expect([...(report.names as string[])].sort()).toEqual([...(report.cjsNames as string[])].sort());
  }, RUN_TIMEOUT);

  it('gives TypeScript its types from ESM and from CommonJS', () => {
    // The repository's TypeScript stands in for the user's; @types/node as a user of Node.js has it.
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = path.join(REPO, 'node_modules', '@types');
    const options = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    run('node', [tsc, ...options, '--target', 'es2022', '--types', 'node', '--typeRoots', typeRoots, 'types.mts', 'types.cts'], project, env);
  }, RUN_TIMEOUT);

  describe('when the binary cannot be loaded', () => {
    /** Loads torchrnn with node-gyp-build pointed at `dir` (TORCHRNN_PREBUILD); returns stderr. */
    function failingLoad(dir: string): string {
      const result = spawnSync('node', ['-e', "require('torchrnn')"], {
        cwd: project,
        env: { ...withIsa(env, undefined), TORCHRNN_PREBUILD: dir },
        encoding: 'utf8',
      });
      expect(result.status).not.toBe(0);
      return result.stderr;
    }

    it('names the damaged binary, its loader error and the fix', () => {
      const dir = path.join(work, 'damaged');
      fs.mkdirSync(path.join(dir, 'prebuilds', TUPLE), { recursive: true });
      const binary = path.join(dir, 'prebuilds', TUPLE, 'torchrnn.node');
      fs.writeFileSync(binary, Buffer.alloc(4096, 0x5a));
      const stderr = failingLoad(dir);
      expect(stderr).toContain('torchrnn could not load its native addon.');
      expect(stderr).toContain(`Looked for: a binary for ${TUPLE}`);
      expect(stderr).toContain(`Found:      ${binary}, which failed to load`);
      expect(stderr).toContain('npm rebuild torchrnn');
      expect(stderr).toContain('npm install torchrnn --build-from-source');
      // glibc's loader words it so; musl's and macOS's loaders word it otherwise.
      if (process.platform === 'linux' && !fs.existsSync('/etc/alpine-release')) {
        expect(stderr).toContain('invalid ELF header');
        expect(stderr).toContain('built for another platform or architecture, or is damaged');
      }
    }, RUN_TIMEOUT);

    it('says where it looked when there is no binary at all', () => {
      const dir = path.join(work, 'empty');
      fs.mkdirSync(dir);
      const stderr = failingLoad(dir);
      expect(stderr).toContain(`Looked in:  ${path.join(dir, 'build', 'Release')}`);
      expect(stderr).toContain(path.join(dir, 'prebuilds', TUPLE));
      expect(stderr).toContain('No native build was found');
      expect(stderr).toContain('No prebuilt binary fits this system and none was built from source');
      expect(stderr).toContain('npm rebuild torchrnn');
    }, RUN_TIMEOUT);
  });
});

describe('installed without a prebuild', () => {
  it('builds from source and matches PyTorch', () => {
    const project = path.join(work, 'source-consumer');
    const env = withIsa(userEnv({ JOBS: 'max' }), undefined);
    const installed = installTarball(project, tarballs.source, dependencies, env);
    addConsumerScripts(project);
    const report = runConsumer(project, 'forward.cjs', env);
    expect(report.binary).toBe(path.join(installed, 'build', 'Release', 'torchrnn.node'));
    expect(pytorchMismatches(report)).toEqual([]);
  }, BUILD_TIMEOUT);
});
