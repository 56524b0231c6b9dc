/** Deterministic test inputs, independent of the library's own generator. */
import { Tensor } from '../../lib';
import { seededRandom as generator } from './seeded';


/** A tensor of values uniform in (-scale, scale). */
export function randomTensor(shape: number[], seed: number, scale = 1, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const next = generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * next() - 1) * scale;
  return new Tensor(data, shape);
}

/** A float32 tensor of smooth, distinct values sin(seed + 0.7 i): no generator, so easy to reason about. */
export function sineTensor(shape: number[], seed: number): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(seed + i * 0.7);
  return t;
}
