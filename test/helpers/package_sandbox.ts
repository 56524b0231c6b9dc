/**
 * Packs torchrnn the way a release does and installs the tarball into throwaway projects the way a user
 * does, so that tests can check what a user of the published package gets.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository's root. */
export const REPO = path.resolve(__dirname, '..', '..');

/** The build tools a source build needs; none may be reachable where a prebuild is promised to suffice. */
export const TOOLCHAIN = ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make', 'python', 'python3'];

/** Runs a command to completion and returns its stdout; throws with both streams when it fails. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status}\n` +
        `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/**
 * This process's environment as a user's shell would have it: without the npm_* variables that
 * `npm test` sets (they would leak this run's npm settings into the nested npm calls), plus `extra`.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * `env` with npm's cache at `cache`, a new directory, so that the npm run with it starts from an empty
 * cache whatever this machine's ~/.npm holds. (userEnv drops the npm_config_cache that `npm test` passes
 * down, so without this a nested npm would use the warm ~/.npm.)
 */
export function withEmptyNpmCache(env: NodeJS.ProcessEnv, cache: string): NodeJS.ProcessEnv {
  fs.mkdirSync(cache);
  return { ...env, npm_config_cache: cache };
}

/** The only .tgz in `dir`. */
function tarballIn(dir: string): string {
  const found = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  if (found.length !== 1) throw new Error(`expected one tarball in ${dir}, found ${found.join(', ') || 'none'}`);
  return path.join(dir, found[0]);
}

/** `npm pack` of `packageDir` into a new directory `into`, without lifecycle scripts. */
function packDirectory(packageDir: string, into: string, env: NodeJS.ProcessEnv): string {
  fs.mkdirSync(into, { recursive: true });
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', into], packageDir, env);
  return tarballIn(into);
}

/** The two tarballs a release can produce. */
export interface ReleaseTarballs {
  /** No prebuilds/: what a user on a platform without a prebuild effectively gets. */
  source: string;
  /**
   * With this machine's prebuild, made by `npm run prebuildify` as the release workflow makes it, and,
   * when asked for, a linux-arm64 one cross-compiled beside it (`npm run prebuildify:linux-arm64`).
   */
  prebuilt: string;
  /** Whether `prebuilt` holds the cross-compiled linux-arm64 prebuild. */
  linuxArm64: boolean;
}

/** The cross tools `npm run prebuildify:linux-arm64` calls (Debian's g++-aarch64-linux-gnu brings them). */
export const ARM64_CROSS_TOOLS = ['aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-g++', 'aarch64-linux-gnu-ar', 'aarch64-linux-gnu-strip'];

/** Where Debian's cross toolchain keeps the arm64 C and C++ runtime libraries, for qemu's `-L`. */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/**
 * What is missing on this machine to cross-compile a linux-arm64 prebuild and run it under user-mode
 * emulation, as Debian package names (empty when nothing is), and the emulator found. Only a Linux x64
 * machine cross-compiles here.
 */
export function arm64Emulation(): { missing: string[]; qemu: string | undefined } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { missing: [`a Linux x64 machine (this is ${process.platform}-${process.arch})`], qemu: undefined };
  }
  const PATH = process.env.PATH ?? '';
  const missing: string[] = [];
  if (!ARM64_CROSS_TOOLS.every((tool) => reachable(tool, PATH)) || !fs.existsSync(path.join(ARM64_SYSROOT, 'lib'))) {
    missing.push('g++-aarch64-linux-gnu');
  }
  const qemu = ['qemu-aarch64', 'qemu-aarch64-static'].find((tool) => reachable(tool, PATH));
  if (qemu === undefined) missing.push('qemu-user');
  return { missing, qemu: qemu && which(qemu) };
}

/**
 * Packs the repository (`npm pack`, whose `prepare` compiles dist/), then, in an unpacked copy of that
 * tarball rather than in the repository (whose build/ other tests are loading), replaces any prebuilds/
 * with one made here (and, with `linuxArm64`, a cross-compiled linux-arm64 one) and packs again.
 */
export function packRelease(work: string, { linuxArm64 = false }: { linuxArm64?: boolean } = {}): ReleaseTarballs {
  const env = withEmptyNpmCache(userEnv(), path.join(work, 'pack-npm-cache'));
  const raw = path.join(work, 'raw');
  fs.mkdirSync(raw);
  run('npm', ['pack', '--pack-destination', raw], REPO, env);
  const stage = path.join(work, 'stage');
  fs.mkdirSync(stage);
  run('tar', ['-xzf', tarballIn(raw), '-C', stage], stage);
  const unpacked = path.join(stage, 'package');
  fs.rmSync(path.join(unpacked, 'prebuilds'), { recursive: true, force: true });
  const source = packDirectory(unpacked, path.join(work, 'source'), env);

  // prebuildify, node-gyp and node-addon-api come from the repository's devDependencies.
  const modules = path.join(unpacked, 'node_modules');
  fs.symlinkSync(path.join(REPO, 'node_modules'), modules, 'dir');
  run('npm', ['run', 'prebuildify'], unpacked, { ...env, JOBS: 'max' });
  if (linuxArm64) run('npm', ['run', 'prebuildify:linux-arm64'], unpacked, { ...env, JOBS: 'max' });
  fs.unlinkSync(modules);
  const prebuilt = packDirectory(unpacked, path.join(work, 'prebuilt'), env);
  return { source, prebuilt, linuxArm64 };
}

/** Paths inside a tarball, without tar's leading `package/`. */
export function tarballFiles(tarball: string): string[] {
  return run('tar', ['-tzf', tarball], path.dirname(tarball))
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));
}

/** The absolute path of `command` on this process's PATH. */
export function which(command: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${command} is not on PATH`);
}

/**
 * A directory for PATH holding only node, npm and sh (npm runs lifecycle scripts with `sh`): no
 * compiler, make or Python.
 */
export function toolchainFreeBin(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  // The real npm-cli.js, so that npm finds its own files next to it.
  fs.symlinkSync(fs.realpathSync(which('npm')), path.join(dir, 'npm'));
  fs.symlinkSync(fs.realpathSync('/bin/sh'), path.join(dir, 'sh'));
  return dir;
}

/** Whether `sh` finds `command` on `PATH`. */
export function reachable(command: string, PATH: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], { env: { PATH } }).status === 0;
}

/**
 * A new project in `dir` with `tarball` installed the way a user installs torchrnn, but with no registry:
 * `dependencies` (tarballs of torchrnn's runtime dependencies, from packRuntimeDependencies) are installed
 * beside it, `--offline` makes any registry request fail, and npm starts from a new, empty cache, so
 * nothing can come from the network or from what this machine's cache happens to hold. Uses the npm
 * found on `env.PATH` (spawn looks commands up on the child's PATH), or `npm`: a command and its leading
 * arguments, e.g. this Node.js and npm's script, where the `node` on `env.PATH` is one npm cannot run on.
 */
export function installTarball(
  dir: string,
  tarball: string,
  dependencies: string[],
  env: NodeJS.ProcessEnv,
  npm: string[] = ['npm'],
): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
  const npmEnv = withEmptyNpmCache(env, `${dir}-npm-cache`);
  const [command, ...leading] = npm;
  run(command, [...leading, 'install', '--offline', '--no-audit', '--no-fund', tarball, ...dependencies], dir, npmEnv);
  return path.join(dir, 'node_modules', 'torchrnn');
}
