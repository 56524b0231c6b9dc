/**
 * The published package as a user meets it. The tarball installs with no network, from an empty npm cache
 * (its runtime dependencies packed from this repository's node_modules and installed beside it), and takes
 * the prebuilt binary with no compiler or Python on PATH; without a prebuild it builds from source; from ESM
 * and from CommonJS it gives PyTorch's numbers, also with the scalar kernels forced; when the binary
 * cannot load, the error says what was looked for and what to do; and it ships only what a user needs.
 * A linux-arm64 prebuild, cross-compiled beside this machine's, loads and gives PyTorch's numbers under
 * qemu-aarch64 with the registry's arm64 Node.js (where the cross compiler and qemu are installed).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConsumerReport, addConsumerScripts, pytorchMismatches } from './helpers/consumer_case';
import {
  ARM64_SYSROOT,
  REPO,
  TOOLCHAIN,
  ReleaseTarballs,
  arm64Emulation,
  installTarball,
  packRelease,
  reachable,
  run,
  tarballFiles,
  toolchainFreeBin,
  userEnv,
  withEmptyNpmCache,
} from './helpers/package_sandbox';
import { cachedNode } from './helpers/runtime_cache';
import { packRuntimeDependencies } from './helpers/runtime_dependencies';

const TUPLE = `${process.platform}-${process.arch}`;

const BUILD_TIMEOUT = 600_000;
const INSTALL_TIMEOUT = 120_000;
const RUN_TIMEOUT = 60_000;
/** A download of the registry's arm64 Node.js (~43 MB) on a fresh machine, then a run under emulation. */
const EMULATED_TIMEOUT = 300_000;

// The linux-arm64 prebuild is cross-compiled beside this machine's and run under qemu-aarch64 with the
// registry's arm64 Node.js. Where the cross compiler or qemu is missing, that part cannot run: say so
// plainly, once, rather than pass without a word.
const ARM64 = arm64Emulation();
if (ARM64.missing.length > 0) {
  console.warn(
    `test/package.test.ts: the linux-arm64 prebuild is NOT built or tested here: missing ${ARM64.missing.join(', ')}` +
      (process.platform === 'linux' ? ` (Debian/Ubuntu: apt-get install -y ${ARM64.missing.join(' ')})` : ''),
  );
}

let work: string;
let tarballs: ReleaseTarballs;
/** Tarballs of torchrnn's runtime dependencies, installed beside it (see helpers/runtime_dependencies). */
let dependencies: string[];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-package-'));
  tarballs = packRelease(work, { linuxArm64: ARM64.missing.length === 0 });
  const packEnv = withEmptyNpmCache(userEnv(), path.join(work, 'dependencies-npm-cache'));
  dependencies = packRuntimeDependencies(path.join(work, 'dependencies'), packEnv);
}, BUILD_TIMEOUT);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** `env` with TORCHRNN_ISA as given, or absent, whatever this process has. */
function withIsa(env: NodeJS.ProcessEnv, isa: string | undefined): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.TORCHRNN_ISA;
  return isa === undefined ? copy : { ...copy, TORCHRNN_ISA: isa };
}

function runConsumer(project: string, script: string, env: NodeJS.ProcessEnv): ConsumerReport {
  return JSON.parse(run('node', [script], project, env)) as ConsumerReport;
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
    if (tarballs.linuxArm64) expect(files).toContain('prebuilds/linux-arm64/torchrnn.glibc.node');
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

  // Registered either way, so that a machine without the tools reports this test as skipped, by name.
  (ARM64.missing.length === 0 ? describe : describe.skip)('on linux-arm64, under qemu-aarch64', () => {
    let armNode: string;

    beforeAll(() => {
      // The arm64 build of the Node.js running this test, so that only the architecture differs.
      armNode = cachedNode('linux', 'arm64', process.versions.node);
    }, EMULATED_TIMEOUT);

    it('loads the cross-compiled arm64 prebuild, runs NEON kernels and matches PyTorch', () => {
      const report = JSON.parse(
        run(ARM64.qemu as string, [armNode, 'forward.cjs'], project, {
          ...withIsa(env, undefined),
          // qemu finds the arm64 dynamic loader, libc and libstdc++ under this prefix.
          QEMU_LD_PREFIX: ARM64_SYSROOT,
        }),
      ) as ConsumerReport;
      expect(report.binary).toBe(path.join(installed, 'prebuilds', 'linux-arm64', 'torchrnn.glibc.node'));
      expect(report.backend).toBe('neon');
      expect(pytorchMismatches(report)).toEqual([]);
    }, EMULATED_TIMEOUT);
  });

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
