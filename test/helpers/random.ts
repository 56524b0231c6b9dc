/** Deterministic test inputs, independent of the library's own generator. */
import { Tensor } from '../../lib';

/** mulberry32: a tiny seeded generator, enough to make varied inputs. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A tensor of values uniform in (-scale, scale). */
export function randomTensor(shape: number[], seed: number, scale = 1, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const next = generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * next() - 1) * scale;
  return new Tensor(data, shape);
}
