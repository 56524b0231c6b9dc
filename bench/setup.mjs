#!/usr/bin/env node
// Installs the benchmark's own dependencies (onnxruntime-node, pinned in bench/package.json and
// bench/package-lock.json) into bench/node_modules, and does nothing when they are already there, so that
// `npm run bench` stays quick after the first time.
//
// onnxruntime-node's install script downloads CUDA libraries and fails on a machine without that
// download; its CPU binary is inside the package, so the scripts are skipped (--ignore-scripts).
// Kept apart from the project's package.json so that `npm install` of torchrnn never meets it.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bench = fileURLToPath(new URL('.', import.meta.url));

function installedVersion(name) {
  const path = `${bench}node_modules/${name}/package.json`;
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).version : undefined;
}

const wanted = JSON.parse(readFileSync(`${bench}package.json`, 'utf8')).dependencies;
const stale = Object.entries(wanted).filter(([name, version]) => installedVersion(name) !== version);
if (stale.length) {
  console.error(`bench: installing ${stale.map(([n, v]) => `${n}@${v}`).join(', ')} into bench/node_modules`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm ci` installs exactly the lockfile; a lockfile out of step with package.json makes it fail loudly.
  const r = spawnSync(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: bench, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
