/**
 * The message thrown when the native addon cannot be loaded. A bare dlopen failure tells a user neither
 * what was looked for nor what to do, so this names the platform, architecture, C library and Node.js ABI
 * that were looked for, the places searched, the binary that was found (if any) and its own error, and
 * the fix — in the words of the runtime it happened in: Deno and Bun skip install scripts and Deno asks
 * for permissions, so their fixes are not npm's.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';

/** The JavaScript runtime a load failed in, with its own version (Deno and Bun also report a Node.js one). */
export interface LoadRuntime {
  /** `'node'`, or `'deno'` when `globalThis.Deno` exists, or `'bun'` when `process.versions.bun` does. */
  name: 'node' | 'deno' | 'bun';
  /** The runtime's own version: `Deno.version.deno`, `process.versions.bun`, or Node.js's. */
  version: string;
}

/** Everything known about one failed load; a plain record so that the message can be tested alone. */
export interface LoadFailure {
  /** The runtime that tried to load the addon. */
  runtime: LoadRuntime;
  /** `process.platform`, or node-gyp-build's `npm_config_platform` override. */
  platform: string;
  /** `process.arch`, or node-gyp-build's `npm_config_arch` override. */
  arch: string;
  /** `'glibc'` or `'musl'` on Linux, decided as node-gyp-build decides it; `''` elsewhere. */
  libc: string;
  /** `process.versions.node` */
  node: string;
  /** `process.versions.modules`: the ABI of addons built against Node.js's own headers. */
  abi: string;
  /** `process.versions.napi`: the newest N-API version this Node.js offers. */
  napi: string | undefined;
  /** The package directory node-gyp-build searched (TORCHRNN_PREBUILD replaces it when set). */
  root: string;
  /** The binary node-gyp-build chose, when it found one and loading that file failed. */
  file: string | undefined;
  /** `TORCHRNN_ISA` as set in the environment, if set. */
  isa: string | undefined;
  /** What went wrong, as node-gyp-build, dlopen or the addon's initialisation reported it. */
  cause: unknown;
}

/** The N-API version binding.gyp builds against (`NAPI_VERSION`): older Node.js cannot load the addon. */
export const REQUIRED_NAPI_VERSION = 8;

/**
 * An environment variable, or undefined where reading it is not allowed: Deno without `--allow-env` throws
 * on the read, and the message must still be built.
 */
function environment(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/** Whether `file` exists; false where it cannot be checked (Deno without `--allow-read`). */
function exists(file: string): boolean {
  try {
    return fs.existsSync(file);
  } catch {
    return false;
  }
}

/** The runtime this process is: Deno and Bun run Node.js packages too, with their own rules. */
export function thisRuntime(): LoadRuntime {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (deno !== undefined) return { name: 'deno', version: deno.version?.deno ?? 'unknown' };
  const bun = (process.versions as Record<string, string | undefined>).bun;
  if (bun !== undefined) return { name: 'bun', version: bun };
  return { name: 'node', version: process.versions.node };
}

/** The load as node-gyp-build attempts it in this process, for `root`. */
export function describeThisProcess(root: string, file: string | undefined, cause: unknown): LoadFailure {
  const platform = environment('npm_config_platform') || process.platform;
  // node-gyp-build's own rule: musl exactly when /etc/alpine-release exists, unless LIBC says otherwise.
  const libc = platform === 'linux' ? environment('LIBC') || (exists('/etc/alpine-release') ? 'musl' : 'glibc') : '';
  return {
    runtime: thisRuntime(),
    platform,
    arch: environment('npm_config_arch') || process.arch,
    libc,
    node: process.versions.node,
    abi: process.versions.modules,
    napi: process.versions.napi,
    root: environment('TORCHRNN_PREBUILD') || root,
    file,
    isa: environment('TORCHRNN_ISA'),
    cause,
  };
}

function causeMessage(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.trim().replace(/\n\s*/g, '\n    ');
}

/** What the original error most likely means, in words a user can act on, and whether a rebuild helps. */
interface Diagnosis {
  /** null when the original error says all that is known */
  why: string | null;
  /** false when the binary is fine and the fix lies elsewhere (Node.js's version, the environment) */
  rebuildHelps: boolean;
}

/** What Deno must be allowed for the addon to load: to load native code, read its files, read the environment. */
export const DENO_PERMISSIONS = '--allow-ffi --allow-read --allow-env';

function diagnose(f: LoadFailure, text: string): Diagnosis {
  // Deno refuses with NotCapable ("Requires ffi access to ..., run again with the --allow-ffi flag"): the
  // binary is fine, the process lacks a permission, and the flag fixes it where a rebuild would not.
  if (f.runtime.name === 'deno' && /NotCapable|--allow-(ffi|read|env|all)\b|Requires (ffi|read|env) access/.test(text)) {
    return {
      why:
        `Deno needs permission to load the addon: run with \`deno run ${DENO_PERMISSIONS} ...\` (or -A). ` +
        '--allow-ffi lets it load native code, --allow-read read the package\'s files, --allow-env read the ' +
        'variables that choose the binary.',
      rebuildHelps: false,
    };
  }
  if (f.napi !== undefined && Number(f.napi) < REQUIRED_NAPI_VERSION) {
    return {
      why: `This Node.js (${f.node}) offers N-API ${f.napi}; torchrnn needs N-API ${REQUIRED_NAPI_VERSION} (Node.js 18 or newer). Upgrade Node.js.`,
      rebuildHelps: false,
    };
  }
  if (f.isa !== undefined && text.includes('TORCHRNN_ISA')) {
    return {
      why: `TORCHRNN_ISA is set to '${f.isa}'. Unset it to let the engine choose, or set it to avx512, avx2, neon or scalar.`,
      rebuildHelps: false,
    };
  }
  if (f.file === undefined) {
    if (f.runtime.name === 'deno') {
      return {
        why:
          'No prebuilt binary fits this system and none was built from source: Deno runs a package\'s install ' +
          'script, which builds one, only when allowed to.',
        rebuildHelps: true,
      };
    }
    if (f.runtime.name === 'bun') {
      return {
        why:
          'No prebuilt binary fits this system and none was built from source: Bun runs the install script, ' +
          'which builds one, only for trusted dependencies. (Where a prebuild fits, and docs/INSTALL.md lists ' +
          'those platforms, it loads without the script.)',
        rebuildHelps: true,
      };
    }
    return {
      why:
        'No prebuilt binary fits this system and none was built from source: the install script builds one ' +
        'when no prebuild fits, unless it was skipped (--ignore-scripts, or npm\'s allowScripts policy: ' +
        '`npm install-scripts approve torchrnn`) or failed (see the install log).',
      rebuildHelps: true,
    };
  }
  if (/GLIBC_|GLIBCXX_|CXXABI_/.test(text)) {
    return { why: 'The binary needs a newer C or C++ runtime library than this system has.', rebuildHelps: true };
  }
  if (/invalid ELF header|wrong ELF class|ELF file|not a valid Win32 application|Exec format error|mach-o|incompatible architecture|file too short/i.test(text)) {
    return { why: 'The binary was built for another platform or architecture, or is damaged.', rebuildHelps: true };
  }
  if (/Error loading shared library|Error relocating|symbol not found/i.test(text)) {
    return {
      why: 'The binary was built against another C library (glibc and musl binaries are not interchangeable).',
      rebuildHelps: true,
    };
  }
  return { why: null, rebuildHelps: true };
}

/** How the runtime names itself in the message: Node.js's ABI, or Deno's or Bun's version and the Node.js they mimic. */
function runtimeWanted(f: LoadFailure): string {
  const napi = `N-API ${f.napi ?? 'none'}`;
  switch (f.runtime.name) {
    case 'deno':
      return `Deno ${f.runtime.version} (as Node.js ${f.node}, ${napi})`;
    case 'bun':
      return `Bun ${f.runtime.version} (as Node.js ${f.node}, ${napi})`;
    default:
      return `Node.js ${f.node} (ABI ${f.abi}, ${napi})`;
  }
}

/** The commands that build the addon from source, in the runtime's own package manager. */
function rebuildCommands(f: LoadFailure): string[] {
  switch (f.runtime.name) {
    case 'deno':
      return [
        'To fix it, let Deno run torchrnn\'s install script, which builds the addon from source when no prebuild loads:',
        '  deno install --allow-scripts=npm:torchrnn',
      ];
    case 'bun':
      return [
        'To fix it, let Bun run torchrnn\'s install script, which builds the addon from source when no prebuild loads:',
        '  bun pm trust torchrnn',
      ];
    default:
      return [
        'To fix it, build the addon from source for this machine:',
        '  npm rebuild torchrnn',
        'or reinstall with',
        '  npm install torchrnn --build-from-source',
      ];
  }
}

/** The full message: what was looked for, where, what was found, what failed, and how to fix it. */
export function loadFailureMessage(f: LoadFailure): string {
  const tuple = `${f.platform}-${f.arch}`;
  const wanted = [tuple + (f.libc ? ` (${f.libc})` : ''), runtimeWanted(f)];
  const searched = [
    path.join(f.root, 'build', 'Release'),
    path.join(f.root, 'build', 'Debug'),
    path.join(f.root, 'prebuilds', tuple),
  ];
  const text = causeMessage(f.cause);
  const lines = [
    'torchrnn could not load its native addon.',
    `  Looked for: a binary for ${wanted.join(', ')}`,
    `  Looked in:  ${searched.join('\n              ')}`,
  ];
  if (f.file !== undefined) lines.push(`  Found:      ${f.file}, which failed to load`);
  lines.push(`  Error:      ${text}`);
  const { why, rebuildHelps } = diagnose(f, text);
  if (why !== null) lines.push('', why);
  if (rebuildHelps) {
    lines.push(
      '',
      ...rebuildCommands(f),
      'A source build needs Python 3, make and a C++17 compiler (build-essential on Debian/Ubuntu, ' +
        'build-base on Alpine, the Xcode Command Line Tools on macOS, Visual Studio Build Tools on Windows).',
      'docs/INSTALL.md in this package lists the platforms that have prebuilt binaries.',
    );
  }
  return lines.join('\n');
}
