/**
 * The message thrown when the addon cannot load: what was looked for, where, what failed, and a fix that
 * fits the failure. (test/package.test.ts provokes real failures in an installed package.)
 */
import * as path from 'path';
import { LoadFailure, describeThisProcess, loadFailureMessage } from '../lib/native_load_error';

const ROOT = path.join(path.sep, 'app', 'node_modules', 'torchrnn');

function failure(overrides: Partial<LoadFailure>): LoadFailure {
  return {
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
