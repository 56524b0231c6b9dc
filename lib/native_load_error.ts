/**
 * The message thrown when the native addon cannot be loaded. A bare dlopen failure tells a user neither
 * what was looked for nor what to do, so this names the platform, architecture, C library and Node.js ABI
 * that were looked for, the places searched, the binary that was found (if any) and its own error, and
 * the fix.
 *
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';

/** Everything known about one failed load; a plain record so that the message can be tested alone. */
export interface LoadFailure {
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

/** The load as node-gyp-build attempts it in this process, for `root`. */
export function describeThisProcess(root: string, file: string | undefined, cause: unknown): LoadFailure {
  const platform = process.env.npm_config_platform || process.platform;
  // node-gyp-build's own rule: musl exactly when /etc/alpine-release exists, unless LIBC says otherwise.
  const libc = platform === 'linux' ? process.env.LIBC || (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
  return {
    platform,
    arch: process.env.npm_config_arch || process.arch,
    libc,
    node: process.versions.node,
    abi: process.versions.modules,
    napi: process.versions.napi,
    root: process.env.TORCHRNN_PREBUILD || root,
    file,
    isa: process.env.TORCHRNN_ISA,
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

function diagnose(f: LoadFailure, text: string): Diagnosis {
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

/** The full message: what was looked for, where, what was found, what failed, and how to fix it. */
export function loadFailureMessage(f: LoadFailure): string {
  const tuple = `${f.platform}-${f.arch}`;
  const wanted = [tuple + (f.libc ? ` (${f.libc})` : ''), `Node.js ${f.node} (ABI ${f.abi}, N-API ${f.napi ?? 'none'})`];
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
      'To fix it, build the addon from source for this machine:',
      '  npm rebuild torchrnn',
      'or reinstall with',
      '  npm install torchrnn --build-from-source',
      'A source build needs Python 3, make and a C++17 compiler (build-essential on Debian/Ubuntu, ' +
        'build-base on Alpine, the Xcode Command Line Tools on macOS, Visual Studio Build Tools on Windows).',
      'docs/INSTALL.md in this package lists the platforms that have prebuilt binaries.',
    );
  }
  return lines.join('\n');
}
