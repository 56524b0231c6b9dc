/**
 * torchrnn's runtime dependencies as tarballs packed from the repository's own node_modules, so that a
 * consumer project can install them beside torchrnn's tarball with `npm install --offline` on a machine
 * whose npm cache is empty. Without them npm would resolve each dependency's range from the registry's
 * metadata, which only a warm cache holds offline (`ENOTCACHED` on a fresh machine).
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO, run } from './package_sandbox';

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
}

/**
 * Where Node.js would find `name` when required from the package in `from`: `from`'s own node_modules,
 * then each enclosing one up to the repository's. Undefined when it is not installed.
 */
function installedDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
    if (dir === REPO || dir === path.dirname(dir)) return undefined;
  }
}

/** The dependencies npm installs for a package: required ones, peers not marked optional, optional ones. */
function requiredNames(manifest: Manifest): { name: string; optional: boolean }[] {
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
  );
  return [
    ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...peers.map((name) => ({ name, optional: false })),
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
  ];
}

/**
 * `npm pack`s every package that torchrnn's `dependencies` pull in, transitively, from the repository's
 * node_modules into `into`, and returns the tarballs. They are installed side by side at a consumer's
 * top level, so two versions of one package cannot be supplied: that throws, as does a dependency that is
 * not installed.
 */
export function packRuntimeDependencies(into: string, env: NodeJS.ProcessEnv): string[] {
  fs.mkdirSync(into, { recursive: true });
  const found = new Map<string, { version: string; dir: string }>();
  const queue: { name: string; optional: boolean; from: string }[] = requiredNames(readManifest(REPO)).map(
    (dep) => ({ ...dep, from: REPO }),
  );
  for (let next = queue.shift(); next; next = queue.shift()) {
    const dir = installedDir(next.name, next.from);
    if (!dir) {
      if (next.optional) continue;
      throw new Error(`${next.name}, a runtime dependency, is not installed under ${next.from}: run npm install`);
    }
    const manifest = readManifest(dir);
    const seen = found.get(manifest.name);
    if (seen) {
      if (seen.version !== manifest.version) {
        throw new Error(
          `two versions of ${manifest.name} are needed (${seen.version} in ${seen.dir}, ${manifest.version} in ${dir}); ` +
            'they cannot be installed side by side',
        );
      }
      continue;
    }
    found.set(manifest.name, { version: manifest.version, dir });
    queue.push(...requiredNames(manifest).map((dep) => ({ ...dep, from: dir })));
  }
  return [...found.values()].map(({ dir }) => {
    const report = JSON.parse(
      run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into], dir, env),
    ) as { filename: string }[];
    return path.join(into, report[0].filename);
  });
}
