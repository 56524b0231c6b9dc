// Polls GET /health on one keep-alive connection every POLL_MS until its stdin closes, then prints the
// latencies (ms) as JSON. A process of its own, so that the load generator's busy event loop (sending a
// hundred 1 MB bodies) does not delay the poll and count as the server's latency.
//
//   node bench/serving/health-poller.mjs PORT [POLL_MS]

import http from 'node:http';

const port = Number(process.argv[2]);
const POLL_MS = Number(process.argv[3] ?? 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function health() {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/health', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`/health answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

let done = false;
process.stdin.on('end', () => (done = true)).resume();
const latencies = [];
await health(); // the connection is open before the first timed poll
process.stdout.write('ready\n');
while (!done) {
  const started = performance.now();
  await health();
  latencies.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
agent.destroy();
process.stdout.write(`${JSON.stringify(latencies)}\n`);
