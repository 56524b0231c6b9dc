/**
 * examples/server as a user runs it, for the server tests: a child process on an ephemeral port of
 * 127.0.0.1, requests on connections of their own, and a reader of the Prometheus text it exposes.
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
import * as path from 'path';
import { Tensor } from '../../lib';

/** The repository's root. */
export const REPO = path.join(__dirname, '..', '..');
const SERVER = path.join(REPO, 'examples', 'server', 'server.mjs');

/** A running server. */
export interface Server {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the server with `args` (on 127.0.0.1, port 0, one engine thread) and resolves once it prints its address. */
export function startServer(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [SERVER, '--host', '127.0.0.1', '--port', '0', '--threads', '1', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (match) resolve({ child, port: Number(match[1]), output: () => text, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${text}`)));
  });
}

/** SIGTERM, and wait for the exit. */
export async function stopServer(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

/** An answer: status, headers, body. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on its own connection (no keep-alive, so nothing outlives the test). */
export function request(port: number, method: string, route: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    // The server may close the connection while a refused body is still being sent: the answer counts.
    req.on('error', reject);
    req.end(body);
  });
}

/** An answer's body as JSON. */
export const json = (a: Answer): Record<string, unknown> => JSON.parse(a.body.toString()) as Record<string, unknown>;

/** POST `value` as JSON (to /predict unless `route` says otherwise). */
export const postJson = (port: number, value: unknown, route = '/predict'): Promise<Answer> =>
  request(port, 'POST', route, JSON.stringify(value), { 'Content-Type': 'application/json' });

/** Reproducible inputs: a small LCG, values in [-1, 1). */
export function values(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.fround(state / 2 ** 31 - 1);
  });
}

/** A float32 Tensor of `shape` filled from {@link values}. */
export function random(shape: number[], seed: number): Tensor {
  return new Tensor(Float32Array.from(values(shape.reduce((a, b) => a * b, 1), seed)), shape);
}

/** One sample of an exposition: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its TYPE, its HELP and its samples. */
export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** A sample value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case; prom-client writes "Nan"). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a sample value: '${text}' in: ${line}`);
  return Number(text);
}

/**
 * Prometheus' text exposition format (version 0.0.4), read strictly: every line a HELP, a TYPE or a sample
 * of a family declared before it, names and labels as the format allows them, each family declared once,
 * a histogram's buckets cumulative and ending in +Inf equal to its count. Throws at the first line that breaks a rule.
 */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { type: '', help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!TYPES.includes(rest) || family.type !== '') throw new Error(`bad or repeated TYPE: ${line}`);
        family.type = rest;
      } else {
        family.help = rest;
      }
      families.set(name, family);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = '', valueText] = sample;
    const labels: Record<string, string> = {};
    for (let rest = labelText; rest !== ''; ) {
      const label = LABEL.exec(rest);
      if (!label) throw new Error(`bad labels in: ${line}`);
      if (label[1] in labels) throw new Error(`label ${label[1]} repeated in: ${line}`);
      labels[label[1]] = label[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      rest = rest.slice(label[0].length);
    }
    const owner = [...families.entries()].find(([base, f]) => (SUFFIXES[f.type] ?? ['']).some((suffix) => name === base + suffix));
    if (owner === undefined) throw new Error(`a sample of no declared family: ${line}`);
    owner[1].samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  for (const [name, family] of families) {
    if (family.type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of family.samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      const counts = buckets.map((b) => b.value);
      if (counts.some((c, i) => i > 0 && c < counts[i - 1])) throw new Error(`${name}${key}: buckets are not cumulative`);
      const last = buckets[buckets.length - 1];
      const count = family.samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
      if (last.labels.le !== '+Inf' || count === undefined || count.value !== last.value) throw new Error(`${name}${key}: no +Inf bucket equal to _count`);
    }
  }
  return families;
}

/** The value of the one sample `name` with exactly `labels` (every label given), or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const found = family.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
    if (found) return found.value;
  }
  return undefined;
}

/** GET /metrics, parsed. */
export async function scrape(port: number): Promise<Map<string, Family>> {
  const answer = await request(port, 'GET', '/metrics');
  if (answer.status !== 200) throw new Error(`GET /metrics: ${answer.status}`);
  return parsePrometheus(answer.body.toString());
}
