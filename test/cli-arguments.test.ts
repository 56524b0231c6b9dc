/**
 * The `torchrnn` command's argument errors and a reader that stops early, spawned as a user runs it.
 */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';

const CLI = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

describe('numeric options', () => {
  test.each([
    [['--length', 'abc'], "error: option '--length <n>' argument 'abc' is invalid. Not a number."],
    [['--length', '1.5'], "error: option '--length <n>' argument '1.5' is invalid. Not an integer."],
    [['--temperature', 'x'], "error: option '--temperature <t>' argument 'x' is invalid. Not a number."],
    [['--seed', ''], "error: option '--seed <n>' argument '' is invalid. Not a number."],
  ])('demo %j is a usage error, not a stack trace', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, 'demo', ...args], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(message);
    expect(result.stderr).toContain('Usage: torchrnn demo [options]');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('a reader that closes early', () => {
  test('demo exits quietly with status 0 when its stdout is closed (EPIPE)', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--length', '20000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // as `| head -c 0` does: the pipe's reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
