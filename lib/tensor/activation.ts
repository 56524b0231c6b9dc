/**
 * The activations as functions over tensors — sigmoid, tanh, relu, gelu, softmax, logSoftmax — for
 * Tensor's methods and for the activation modules alike.
 *
 * @packageDocumentation
 */
import { allocate, isFloatDType, TORCH_TYPE_NAMES, type DType, type FloatDType, type NumberData } from './dtype';
import { product, wrapDim } from './dims';
import { FloatFunction, mapFloat } from './elementwise';
import { Tensor } from './tensor';

type AnyTensor = Tensor<DType>;

/** How {@link gelu} computes Φ(x): exactly (`'none'`, with erf) or by PyTorch's tanh approximation. */
export type GeluApproximate = 'none' | 'tanh';

function checkTensor(value: unknown, fn: string): asserts value is AnyTensor {
  if (!(value instanceof Tensor)) throw new TypeError(`${fn}(): argument 'input' (position 1) must be Tensor, not ${typeof value}`);
}

/**
 * PyTorch's `torch.sigmoid(t)`: 1 / (1 + e^(-x)); integer input gives float32.
 *
 * @example
 * ```ts
 * sigmoid(tensor([0])).toArray();   // [0.5]
 * ```
 */
export function sigmoid(t: AnyTensor): Tensor {
  checkTensor(t, 'sigmoid');
  return mapFloat(t, FloatFunction.Sigmoid) as Tensor;
}

/** PyTorch's `torch.tanh(t)`; integer input gives float32. */
export function tanh(t: AnyTensor): Tensor {
  checkTensor(t, 'tanh');
  return mapFloat(t, FloatFunction.Tanh) as Tensor;
}

/** PyTorch's `torch.relu(t)`: max(x, 0), NaN kept, in the input's dtype (bool is refused, as PyTorch does). */
export function relu<D extends DType = FloatDType>(t: Tensor<D>): Tensor<D> {
  checkTensor(t, 'relu');
  if (t.dtype === 'bool') throw new TypeError('Boolean inputs not supported for relu');
  const out = allocate(t.dtype, t.numel());
  const n = out.length;
  if (t.dtype === 'int64') {
    const x = t.data as BigInt64Array;
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) o[i] = x[i] > 0n ? x[i] : 0n;
  } else {
    const x = t.data as NumberData;
    const o = out as NumberData;
    // `x > 0 || x !== x` keeps NaN, as PyTorch's relu does.
    for (let i = 0; i < n; i++) {
      const v = x[i];
      o[i] = v > 0 || v !== v ? v : 0;
    }
  }
  return new Tensor<DType>(out, t.shape, t.dtype) as Tensor<D>;
}

/**
 * PyTorch's `F.gelu(t, approximate)`: x·Φ(x), with Φ from erf (`'none'`, the default) or from PyTorch's
 * tanh formula (`'tanh'`). Floating-point input only.
 */
export function gelu(t: AnyTensor, approximate: GeluApproximate = 'none'): Tensor {
  checkTensor(t, 'gelu');
  if (approximate !== 'none' && approximate !== 'tanh') throw new RangeError('approximate argument must be either none or tanh.');
  if (!isFloatDType(t.dtype)) throw new TypeError(`"GeluKernelImpl" not implemented for '${TORCH_TYPE_NAMES[t.dtype]}'`);
  return mapFloat(t, approximate === 'tanh' ? FloatFunction.GeluTanh : FloatFunction.Gelu) as Tensor;
}

/** softmax or its log along `dim`, numerically stable: each line shifted by its maximum first. */
function softmaxAlong(t: AnyTensor, dim: number, logarithm: boolean, fn: string): AnyTensor {
  checkTensor(t, fn);
  if (dim === undefined) throw new TypeError(`${fn}(): argument 'dim' is required`);
  const d = wrapDim(dim, t.dim());
  const lastDim = t.dim() === 0 || d === t.dim() - 1;
  if (!isFloatDType(t.dtype)) {
    // PyTorch names its log_softmax kernel for other dims "softmax_kernel_impl" too.
    const kernel = lastDim ? `${logarithm ? 'log_softmax' : 'softmax'}_lastdim_kernel_impl` : 'softmax_kernel_impl';
    throw new TypeError(`"${kernel}" not implemented for '${TORCH_TYPE_NAMES[t.dtype]}'`);
  }
  const x = t.data as NumberData;
  const out = allocate(t.dtype, x.length) as NumberData;
  const shape = t.shape;
  const outer = t.dim() === 0 ? 1 : product(shape, 0, d);
  const size = t.dim() === 0 ? 1 : shape[d];
  const inner = t.dim() === 0 ? 1 : product(shape, d + 1);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * size * inner + j;
      let max = -Infinity;
      for (let k = 0; k < size; k++) {
        const v = x[base + k * inner];
        if (v > max) max = v;
      }
      let sum = 0;
      if (logarithm) {
        for (let k = 0; k < size; k++) sum += Math.exp(x[base + k * inner] - max);
        const shift = max + Math.log(sum);
        for (let k = 0; k < size; k++) out[base + k * inner] = x[base + k * inner] - shift;
      } else {
        // The exponentials are kept in the output, then scaled: one exp per element.
        for (let k = 0; k < size; k++) {
          const e = Math.exp(x[base + k * inner] - max);
          out[base + k * inner] = e;
          sum += e;
        }
        const scale = 1 / sum;
        for (let k = 0; k < size; k++) out[base + k * inner] *= scale;
      }
    }
  }
  return new Tensor<DType>(out, shape, t.dtype);
}

/**
 * PyTorch's `F.softmax(t, dim)`: e^x / Σ e^x along `dim` (required, as PyTorch warns when it is
 * missing); floating-point input only.
 *
 * @example
 * ```ts
 * softmax(tensor([[1, 2, 3]]), -1);
 * ```
 */
export function softmax(t: AnyTensor, dim: number): Tensor {
  return softmaxAlong(t, dim, false, 'softmax') as Tensor;
}

/** PyTorch's `F.log_softmax(t, dim)`: x - log Σ e^x along `dim`, computed without overflow. */
export function logSoftmax(t: AnyTensor, dim: number): Tensor {
  return softmaxAlong(t, dim, true, 'log_softmax') as Tensor;
}
