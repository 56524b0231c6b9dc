// The server under test, as a child process on 127.0.0.1 with an ephemeral port: started the way a user
// starts it, so the load test measures the real service, HTTP stack included.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../examples/server/server.mjs', import.meta.url));

/** Starts `examples/server/server.mjs` with `args` and resolves `{ url, pid, stop }` once it listens. */
export function startServer(args, env = {}) {
  const child = spawn(process.execPath, [SERVER, '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      text += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match) {
        resolve({
          url: match[1],
          pid: child.pid,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${text}`)));
  });
}

/** GET or POST `route` on the server; the answer's text. */
export async function call(url, route, method = 'GET') {
  const res = await fetch(`${url}${route}`, { method });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return text;
}
