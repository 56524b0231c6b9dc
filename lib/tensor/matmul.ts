/**
 * `matmul`: PyTorch's rules for 1-D, 2-D and batched operands (batch dims broadcast), computed on the
 * engine's packed GEMM. `native.PackedLinear` computes x·Wᵀ, so each right-hand matrix B is packed as
 * W = Bᵀ, once per distinct B, and every row block of A that meets it runs in one call.
 *
 * @packageDocumentation
 */
import { native, type NativePackedLinear } from '../native';
import { allocate, isFloatDType, TORCH_TYPE_NAMES, type DType, type FloatDType, type FloatTensorData, type NumberData } from './dtype';
import { product } from './dims';
import { broadcastShapes, broadcastStrides } from './elementwise';
import { Tensor } from './tensor';

type AnyTensor = Tensor<DType>;

/** `b` (`k × n`, row-major at `offset`) transposed into a new `n × k` array. */
function transposed(b: FloatTensorData, offset: number, k: number, n: number): FloatTensorData {
  const out = allocate(b instanceof Float64Array ? 'float64' : 'float32', n * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) out[j * k + i] = b[offset + i * n + j];
  return out;
}

type IntegerData = NumberData | BigInt64Array;

/** For each batch of the broadcast result, in order, the index of A's and of B's matrix it multiplies. */
function batchOperands(aBatch: readonly number[], bBatch: readonly number[], batch: readonly number[]): Array<[number, number]> {
  const aStrides = broadcastStrides(aBatch, batch);
  const bStrides = broadcastStrides(bBatch, batch);
  const index = new Array<number>(batch.length).fill(0);
  const operands: Array<[number, number]> = [];
  for (let i = 0, batches = product(batch); i < batches; i++) {
    let aAt = 0;
    let bAt = 0;
    for (let d = 0; d < batch.length; d++) {
      aAt += index[d] * aStrides[d];
      bAt += index[d] * bStrides[d];
    }
    operands.push([aAt, bAt]);
    for (let d = batch.length - 1; d >= 0 && ++index[d] === batch[d]; d--) index[d] = 0;
  }
  return operands;
}

/**
 * The integer product (PyTorch computes it on the CPU too), exact with the dtype's wrap-around: int64 in
 * bigints, int32 through `Math.imul`, narrower types summed exactly and wrapped when stored.
 */
function integerProduct(
  a: AnyTensor,
  b: AnyTensor,
  aShape: readonly number[],
  bShape: readonly number[],
  batch: readonly number[],
  out: IntegerData,
  m: number,
  k: number,
  n: number,
): void {
  batchOperands(aShape.slice(0, -2), bShape.slice(0, -2), batch).forEach(([aAt, bAt], i) => {
    const xo = aAt * m * k;
    const yo = bAt * k * n;
    const oo = i * m * n;
    if (a.dtype === 'int64') {
      const x = a.data as BigInt64Array;
      const y = b.data as BigInt64Array;
      const o = out as BigInt64Array;
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n; c++) {
          let acc = 0n;
          for (let j = 0; j < k; j++) acc += x[xo + r * k + j] * y[yo + j * n + c];
          o[oo + r * n + c] = acc;
        }
      }
    } else {
      const x = a.data as NumberData;
      const y = b.data as NumberData;
      const o = out as NumberData;
      const int32 = a.dtype === 'int32';
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n; c++) {
          let acc = 0;
          if (int32) for (let j = 0; j < k; j++) acc = (acc + Math.imul(x[xo + r * k + j], y[yo + j * n + c])) | 0;
          else for (let j = 0; j < k; j++) acc += x[xo + r * k + j] * y[yo + j * n + c];
          o[oo + r * n + c] = acc;
        }
      }
    }
  });
}

/**
 * PyTorch's `torch.matmul(a, b)`: a dot product for two vectors, a matrix product for matrices, and a
 * batched product otherwise, batch dims broadcast; a 1-D operand gains a dim for the product and loses
 * it after. Both operands of one dtype; float32 and float64 run on the engine's GEMM, integer dtypes in
 * an exact loop; bool is refused, as PyTorch does.
 *
 * @example
 * ```ts
 * matmul(tensor([[1, 2], [3, 4]]), tensor([1, 1])).toArray();   // [3, 7]
 * ```
 */
export function matmul<D extends DType = FloatDType>(a: Tensor<D>, b: Tensor<D>): Tensor<D> {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError('matmul(): arguments must be Tensors');
  const ra = a.dim();
  const rb = b.dim();
  if (ra === 0 || rb === 0) throw new RangeError(`both arguments to matmul need to be at least 1D, but they are ${ra}D and ${rb}D`);
  if (ra === 1 && rb === 1 && a.shape[0] !== b.shape[0]) {
    throw new RangeError(
      `inconsistent tensor size, expected tensor [${a.shape[0]}] and src [${b.shape[0]}] to have the same number of elements, but got ${a.shape[0]} and ${b.shape[0]} elements respectively`,
    );
  }
  if (a.dtype !== b.dtype) throw new TypeError(`expected scalar type ${TORCH_TYPE_NAMES[a.dtype]} but found ${TORCH_TYPE_NAMES[b.dtype]}`);
  // Operands as (batch..., m, k) and (batch..., k, n).
  const aShape = ra === 1 ? [1, a.shape[0]] : [...a.shape];
  const bShape = rb === 1 ? [b.shape[0], 1] : [...b.shape];
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const kb = bShape[bShape.length - 2];
  const n = bShape[bShape.length - 1];
  if (k !== kb) {
    if (ra <= 2 && rb === 2) throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${kb}x${n})`);
    if (ra === 2 && rb === 1) throw new RangeError(`size mismatch, got ${m}, ${m}x${k},${kb}`);
    throw new RangeError(`Expected size for first two dimensions of batch2 tensor to be: [${product(aShape, 0, aShape.length - 2)}, ${k}] but got: [${product(bShape, 0, bShape.length - 2)}, ${kb}].`);
  }
  if (a.dtype === 'bool') throw new TypeError(`"${ra === 1 && rb === 1 ? 'dot' : 'addmm_impl_cpu_'}" not implemented for 'Bool'`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const batches = product(batch);
  const out = allocate(a.dtype, batches * m * n) as FloatTensorData; // integer dtypes: see integerProduct
  const resultShape = [...batch, ...(ra === 1 ? [] : [m]), ...(rb === 1 ? [] : [n])];
  if (out.length > 0 && k > 0 && !isFloatDType(a.dtype)) {
    integerProduct(a, b, aShape, bShape, batch, out as unknown as IntegerData, m, k, n);
  } else if (out.length > 0 && k > 0) {
    const x = a.data as FloatTensorData;
    const y = b.data as FloatTensorData;
    if (product(bBatch) === 1 && product(aBatch) === batches) {
      // One B for every batch and A's batches contiguous: all of A's rows in one call.
      const linear = new native.PackedLinear(k, n, transposed(y, 0, k, n), null);
      out.set(linear.forward(x, batches * m) as FloatTensorData);
      return new Tensor<DType>(out, resultShape, a.dtype) as Tensor<D>;
    }
    const packed = new Map<number, NativePackedLinear>();
    batchOperands(aBatch, bBatch, batch).forEach(([aAt, bAt], i) => {
      let linear = packed.get(bAt);
      if (linear === undefined) {
        linear = new native.PackedLinear(k, n, transposed(y, bAt * k * n, k, n), null);
        packed.set(bAt, linear);
      }
      out.set(linear.forward(x.subarray(aAt * m * k, (aAt + 1) * m * k), m) as FloatTensorData, i * m * n);
    });
  }
  return new Tensor<DType>(out, resultShape, a.dtype) as Tensor<D>;
}
