/**
 * Every tensor operation against PyTorch: test/fixtures/ops.json holds each call's arguments and what
 * PyTorch 1.13 returned or the message it raised (written by test/fixtures/generate_ops.py).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as torchrnn from '../lib';
import { Tensor, type DType } from '../lib';

interface EncodedTensor {
  tensor: { dtype: DType; shape: number[]; data: (number | string)[] };
}
type Encoded = EncodedTensor | { number: number | string } | Encoded[] | number | string | boolean | null;
interface Case {
  name: string;
  op: string;
  function: boolean;
  self?: EncodedTensor;
  args: Encoded[];
  exact: boolean;
  result?: Encoded;
  error?: string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'ops.json'), 'utf8')) as { cases: Case[] };

function number(value: number | string): number {
  if (typeof value === 'number') return value;
  return value === 'NaN' ? NaN : value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : Number(value); // int64 as decimal
}

function isTensor(value: unknown): value is EncodedTensor {
  return typeof value === 'object' && value !== null && 'tensor' in value;
}

function decode(value: Encoded): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (isTensor(value)) {
    const { dtype, shape, data } = value.tensor;
    const t = Tensor.zeros(shape, dtype);
    if (dtype === 'int64') (t.data as BigInt64Array).set(data.map((v) => BigInt(v)));
    else (t.data as Float64Array).set(data.map(number));
    return t;
  }
  if (typeof value === 'object' && value !== null && 'number' in value) return number(value.number);
  // null stands for an argument left at its default (Python's None).
  return value === null ? undefined : value;
}

/** The tensor's elements as numbers (int64 as numbers: the fixtures stay within 2^53). */
function values(t: Tensor<DType>): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Why `actual` is not PyTorch's `expected`, or null when it is. */
function mismatch(actual: unknown, expected: Encoded, exact: boolean, where: string): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${where}: expected a list of ${expected.length}, got ${String(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const problem = mismatch(actual[i], expected[i], exact, `${where}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (!isTensor(expected)) return `${where}: unexpected fixture value`;
  if (!(actual instanceof Tensor)) return `${where}: expected a Tensor, got ${String(actual)}`;
  const t = actual as Tensor<DType>;
  const want = expected.tensor;
  if (t.dtype !== want.dtype) return `${where}: dtype ${t.dtype}, PyTorch ${want.dtype}`;
  if (JSON.stringify(t.shape) !== JSON.stringify(want.shape)) return `${where}: shape [${t.shape}], PyTorch [${want.shape}]`;
  const got = values(t);
  const float = want.dtype === 'float32' || want.dtype === 'float64';
  const [atol, rtol] = !float || exact ? [0, 0] : want.dtype === 'float32' ? [1e-5, 1e-4] : [1e-12, 1e-10];
  for (let i = 0; i < got.length; i++) {
    const e = number(want.data[i]);
    const a = got[i];
    const same = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!same) return `${where}: element ${i} is ${a}, PyTorch ${e}`;
  }
  return null;
}

function call(c: Case): unknown {
  const args = c.args.map(decode);
  // Trailing defaults (null) are left off so that the library's own defaults apply.
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  if (c.function) return (torchrnn as unknown as Record<string, (...a: unknown[]) => unknown>)[c.op](...args);
  const self = decode(c.self!) as unknown as Record<string, (...a: unknown[]) => unknown>;
  return self[c.op](...args);
}

describe('tensor operations match PyTorch', () => {
  test.each(fixture.cases.filter((c) => c.error === undefined).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(mismatch(call(c), c.result!, c.exact, c.op)).toBeNull();
  });
});

describe("tensor operations raise PyTorch's messages", () => {
  test.each(fixture.cases.filter((c) => c.error !== undefined).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let message: string | undefined;
    try {
      call(c);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(c.error);
  });
});

test('the fixture covers every operation', () => {
  const ops = new Set(fixture.cases.map((c) => c.op));
  for (const op of ['select', 'narrow', 'reshape', 'view', 'squeeze', 'unsqueeze', 'transpose', 'permute', 'flatten', 'clone', 'cat', 'stack', 'split', 'chunk',
    'add', 'sub', 'mul', 'div', 'exp', 'log', 'sigmoid', 'tanh', 'relu', 'gelu', 'softmax', 'logSoftmax', 'sum', 'mean', 'amax', 'max', 'argmax', 'topk', 'matmul', 'to', 'tensor']) {
    expect(ops).toContain(op);
  }
});
