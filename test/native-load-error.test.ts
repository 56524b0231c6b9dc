/**
 * The message thrown when the addon cannot load: what was looked for, where, what failed, and a fix that
 * fits the failure. (test/package.test.ts provokes real failures in an installed package.)
 */
import * as path from 'path';
import { LoadFailure, describeThisProcess, loadFailureMessage, thisRuntime } from '../lib/native_load_error';

const ROOT = path.join(path.sep, 'app', 'node_modules', 'torchrnn');

function failure(overrides: Partial<LoadFailure>): LoadFailure {
  return {
    runtime: { name: 'node', version: '20.20.2' },
    platform: 'linux',
    arch: 'x64',
    libc: 'glibc',
    node: '20.20.2',
    abi: '115',
    napi: '9',
    root: ROOT,
    file: undefined,
    isa: undefined,
    cause: new Error('No native build was found for platform=linux arch=x64'),
    ...overrides,
  };
}

describe('the load failure message', () => {
  it('names the platform, C library and Node.js ABI looked for, and every place searched', () => {
    const message = loadFailureMessage(failure({}));
    expect(message).toContain('Looked for: a binary for linux-x64 (glibc), Node.js 20.20.2 (ABI 115, N-API 9)');
    for (const dir of [['build', 'Release'], ['build', 'Debug'], ['prebuilds', 'linux-x64']]) {
      expect(message).toContain(path.join(ROOT, ...dir));
    }
    expect(message).toContain('Error:      No native build was found for platform=linux arch=x64');
  });

  it('leaves out the C library where there is no choice of one', () => {
    const message = loadFailureMessage(failure({ platform: 'darwin', arch: 'arm64', libc: '' }));
    expect(message).toContain('Looked for: a binary for darwin-arm64, Node.js');
  });

  it('explains that nothing was found, and gives the rebuild', () => {
    const message = loadFailureMessage(failure({}));
    expect(message).not.toContain('Found:');
    expect(message).toContain('No prebuilt binary fits this system and none was built from source');
    expect(message).toContain('npm rebuild torchrnn');
    expect(message).toContain('npm install torchrnn --build-from-source');
    expect(message).toContain('C++17 compiler');
  });

  it('names the binary that was found and would not load', () => {
    const file = path.join(ROOT, 'prebuilds', 'linux-x64', 'torchrnn.glibc.node');
    const cause = new Error(`${file}: invalid ELF header`);
    const message = loadFailureMessage(failure({ file, cause }));
    expect(message).toContain(`Found:      ${file}, which failed to load`);
    expect(message).toContain('built for another platform or architecture, or is damaged');
    expect(message).toContain('npm rebuild torchrnn');
  });

  it('recognises a binary that needs a newer glibc', () => {
    const cause = new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found");
    const message = loadFailureMessage(failure({ file: path.join(ROOT, 'x.node'), cause }));
    expect(message).toContain('needs a newer C or C++ runtime library');
  });

  it('recognises a glibc binary on musl', () => {
    const cause = new Error('Error relocating /app/node_modules/torchrnn/x.node: __memcpy_chk: symbol not found');
    const message = loadFailureMessage(failure({ libc: 'musl', file: path.join(ROOT, 'x.node'), cause }));
    expect(message).toContain('glibc and musl binaries are not interchangeable');
  });

  it('sends a bad TORCHRNN_ISA to the environment, not to a rebuild', () => {
    const cause = new Error("torchrnn: TORCHRNN_ISA must be one of avx512, avx2, neon, scalar, got 'sse'");
    const message = loadFailureMessage(failure({ isa: 'sse', file: path.join(ROOT, 'x.node'), cause }));
    expect(message).toContain("TORCHRNN_ISA is set to 'sse'. Unset it");
    expect(message).not.toContain('npm rebuild');
  });

  it('sends a Node.js without N-API 8 to an upgrade, not to a rebuild', () => {
    const message = loadFailureMessage(failure({ node: '12.0.0', napi: '4' }));
    expect(message).toContain('needs N-API 8');
    expect(message).not.toContain('npm rebuild');
  });

  it('keeps a multi-line original error inside the message, indented', () => {
    const cause = new Error('first line\nsecond line');
    expect(loadFailureMessage(failure({ cause }))).toContain('  Error:      first line\n    second line');
  });

  it('reports where node-gyp-build really looked when TORCHRNN_PREBUILD moves it', () => {
    const previous = process.env.TORCHRNN_PREBUILD;
    process.env.TORCHRNN_PREBUILD = path.join(path.sep, 'elsewhere');
    try {
      expect(describeThisProcess(ROOT, undefined, new Error('x')).root).toBe(path.join(path.sep, 'elsewhere'));
    } finally {
      if (previous === undefined) delete process.env.TORCHRNN_PREBUILD;
      else process.env.TORCHRNN_PREBUILD = previous;
    }
  });
});

describe('the load failure message under Deno and Bun', () => {
  const deno = { name: 'deno', version: '2.9.6' } as const;
  const bun = { name: 'bun', version: '1.4.5' } as const;
  const file = path.join(ROOT, 'prebuilds', 'linux-x64', 'torchrnn.glibc.node');

  it('names the runtime and the Node.js version it mimics', () => {
    expect(loadFailureMessage(failure({ runtime: deno, node: '26.3.0', napi: '10' }))).toContain(
      'Looked for: a binary for linux-x64 (glibc), Deno 2.9.6 (as Node.js 26.3.0, N-API 10)',
    );
    expect(loadFailureMessage(failure({ runtime: bun, node: '24.3.0', napi: '10' }))).toContain(
      'Looked for: a binary for linux-x64 (glibc), Bun 1.4.5 (as Node.js 24.3.0, N-API 10)',
    );
  });

  it('sends a Deno refusal to load native code to the permission flags, not to a rebuild', () => {
    // Deno's own words when --allow-ffi is missing.
    const cause = new Error(`Requires ffi access to "${file}", run again with the --allow-ffi flag`);
    const message = loadFailureMessage(failure({ runtime: deno, file, cause }));
    expect(message).toContain('deno run --allow-ffi --allow-read --allow-env');
    expect(message).not.toContain('npm rebuild');
    expect(message).not.toContain('build-from-source');
  });

  it('sends a Deno refusal to read the environment to the same flags', () => {
    // node-gyp-build reads its settings from the environment before it looks for a binary.
    const cause = Object.assign(
      new Error('Requires env access to "PREBUILDS_ONLY", run again with the --allow-env flag'),
      { name: 'NotCapable' },
    );
    const message = loadFailureMessage(failure({ runtime: deno, cause }));
    expect(message).toContain('deno run --allow-ffi --allow-read --allow-env');
    expect(message).not.toContain('No prebuilt binary fits');
    expect(message).not.toContain('npm rebuild');
  });

  it('sends Deno with no binary at all to its own install scripts, not to npm', () => {
    const message = loadFailureMessage(failure({ runtime: deno }));
    expect(message).toContain('Deno runs a package\'s install script');
    expect(message).toContain('deno install --allow-scripts=npm:torchrnn');
    expect(message).not.toContain('npm rebuild');
  });

  it('sends Bun with no binary to trusting the package, and says the prebuild loads without that', () => {
    const message = loadFailureMessage(failure({ runtime: bun }));
    expect(message).toContain('Bun runs the install script, which builds one, only for trusted dependencies');
    expect(message).toContain('Where a prebuild fits, and docs/INSTALL.md lists those platforms, it loads without the script');
    expect(message).toContain('bun pm trust torchrnn');
    expect(message).not.toContain('npm rebuild');
  });

  it('keeps the diagnosis of a damaged binary under Bun, with Bun\'s fix', () => {
    const message = loadFailureMessage(failure({ runtime: bun, file, cause: new Error(`${file}: invalid ELF header`) }));
    expect(message).toContain('built for another platform or architecture, or is damaged');
    expect(message).toContain('bun pm trust torchrnn');
    expect(message).not.toContain('npm rebuild');
  });

  it('gives Node.js its npm fix when the same failure happens there', () => {
    const message = loadFailureMessage(failure({ file, cause: new Error(`${file}: invalid ELF header`) }));
    expect(message).toContain('npm rebuild torchrnn');
    expect(message).not.toContain('bun pm');
    expect(message).not.toContain('deno');
  });
});

describe('the runtime this process is', () => {
  it('is Node.js here', () => {
    expect(thisRuntime()).toEqual({ name: 'node', version: process.versions.node });
  });

  it('is Deno where globalThis.Deno exists', () => {
    const global = globalThis as { Deno?: unknown };
    global.Deno = { version: { deno: '2.9.6' } };
    try {
      expect(thisRuntime()).toEqual({ name: 'deno', version: '2.9.6' });
    } finally {
      delete global.Deno;
    }
  });

  it('is Bun where process.versions.bun exists', () => {
    Object.defineProperty(process.versions, 'bun', { value: '1.4.5', configurable: true, enumerable: true });
    try {
      expect(thisRuntime()).toEqual({ name: 'bun', version: '1.4.5' });
    } finally {
      delete (process.versions as Record<string, string | undefined>).bun;
    }
  });

  it('is described even where reading the environment throws, as in Deno without --allow-env', () => {
    const env = process.env;
    const refusing = new Proxy({}, {
      get() {
        throw new Error('Requires env access, run again with the --allow-env flag');
      },
    });
    Object.defineProperty(process, 'env', { value: refusing, configurable: true, writable: true });
    let described: LoadFailure;
    try {
      described = describeThisProcess(ROOT, undefined, new Error('x'));
    } finally {
      Object.defineProperty(process, 'env', { value: env, configurable: true, writable: true });
    }
    expect(described.root).toBe(ROOT);
    expect(described.platform).toBe(process.platform);
    expect(described.isa).toBeUndefined();
  });
});
