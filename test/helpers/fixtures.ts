/** Reads the JSON fixtures that real PyTorch wrote (see docs/FIXTURES.md) into Tensors. */
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../../lib';

/** A tensor as the generator writes it. */
export interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: (number | string)[];
}

/** One named parameter, in `named_parameters()` order. */
export interface FixtureParam extends FixtureTensor {
  name: string;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function toNumber(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v in NON_FINITE) return NON_FINITE[v];
  throw new Error(`fixture value ${JSON.stringify(v)} is neither a number nor a non-finite name`);
}

/** Turns a fixture tensor into a Tensor of its recorded dtype. */
export function toTensor(t: FixtureTensor): Tensor {
  const values = t.data.map(toNumber);
  const data = t.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
  return new Tensor(data, t.shape);
}

/** The parameters as a state dict, in PyTorch's order. */
export function toStateDict(params: FixtureParam[]): Record<string, Tensor> {
  const sd: Record<string, Tensor> = {};
  for (const p of params) sd[p.name] = toTensor(p);
  return sd;
}

/** The cases of one fixture file in test/fixtures/. */
export function loadCases<C>(file: string): C[] {
  const text = fs.readFileSync(path.join(__dirname, '..', 'fixtures', file), 'utf8');
  const parsed = JSON.parse(text) as { cases: C[] };
  return parsed.cases;
}
