/**
 * Elementwise arithmetic with broadcasting and PyTorch's type promotion (add, sub, mul, div), and the
 * elementwise float functions (exp, log and the activations' kernels). One tight loop per operation over
 * a run of elements; broadcasting walks runs with strides, 0 where a dimension repeats.
 *
 * @packageDocumentation
 */
import { describe } from '../is';
import { allocate, isFloatDType, type AnyTensorData, type DType, type NumberData } from './dtype';
import { coalesce, product } from './dims';
import { resultTypeOf, type Operand } from './promotion';
import { convertScalar } from './scalar';
import { Tensor } from './tensor';

type AnyTensor = Tensor<DType>;

/** The four arithmetic operations, by PyTorch's names. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

const enum Kernel {
  Add,
  Sub,
  Mul,
  Div,
  /** bool + bool: logical or, as PyTorch. */
  Or,
  /** int32 × int32: the low 32 bits of the exact product (a double would round it first). */
  Imul,
}

/**
 * PyTorch's `broadcast_shapes(a, b)`, with its message for sizes that do not broadcast.
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const x = i <= a.length ? a[a.length - i] : 1;
    const y = i <= b.length ? b[b.length - i] : 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RangeError(`The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${rank - i}`);
    }
    out[rank - i] = x === 1 ? y : x;
  }
  return out;
}

/** Strides (in elements) for reading a contiguous tensor of `shape` as if it had `outShape`: 0 where it repeats. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = 1; i <= shape.length; i++) {
    const size = shape[shape.length - i];
    if (size !== 1) strides[outShape.length - i] = s;
    s *= size;
  }
  return strides;
}

function runNumbers(kernel: Kernel, x: NumberData, xi: number, xs: number, y: NumberData, yi: number, ys: number, out: NumberData, oi: number, n: number): void {
  switch (kernel) {
    case Kernel.Add:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] + y[yi + k * ys];
      break;
    case Kernel.Sub:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] - y[yi + k * ys];
      break;
    case Kernel.Mul:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] * y[yi + k * ys];
      break;
    case Kernel.Div:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] / y[yi + k * ys];
      break;
    case Kernel.Or:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] | y[yi + k * ys];
      break;
    case Kernel.Imul:
      for (let k = 0; k < n; k++) out[oi + k] = Math.imul(x[xi + k * xs], y[yi + k * ys]);
      break;
  }
}

function runBigInts(kernel: Kernel, x: BigInt64Array, xi: number, xs: number, y: BigInt64Array, yi: number, ys: number, out: BigInt64Array, oi: number, n: number): void {
  // A BigInt64Array store wraps to 64 bits, as int64 arithmetic does.
  switch (kernel) {
    case Kernel.Add:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] + y[yi + k * ys];
      break;
    case Kernel.Sub:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] - y[yi + k * ys];
      break;
    default:
      for (let k = 0; k < n; k++) out[oi + k] = x[xi + k * xs] * y[yi + k * ys];
  }
}

/** One kernel over operands already in the output dtype, broadcast to `shape`. */
function apply(kernel: Kernel, x: AnyTensorData, xShape: readonly number[], y: AnyTensorData, yShape: readonly number[], out: AnyTensorData, outShape: readonly number[]): void {
  let shape = outShape;
  const big = out instanceof BigInt64Array;
  const run = (xi: number, xs: number, yi: number, ys: number, oi: number, n: number): void => {
    if (big) runBigInts(kernel, x as BigInt64Array, xi, xs, y as BigInt64Array, yi, ys, out, oi, n);
    else runNumbers(kernel, x as NumberData, xi, xs, y as NumberData, yi, ys, out as NumberData, oi, n);
  };
  const total = out.length;
  if (total === 0) return;
  // The common cases in one run each: same shape, or one side a single value.
  if (x.length === total && y.length === total) return run(0, 1, 0, 1, 0, total);
  if (x.length === total && y.length === 1) return run(0, 1, 0, 0, 0, total);
  if (x.length === 1 && y.length === total) return run(0, 0, 0, 1, 0, total);
  const walk = coalesce(shape, [broadcastStrides(xShape, shape), broadcastStrides(yShape, shape)]);
  shape = walk.shape;
  const [xStrides, yStrides] = walk.strides;
  const rank = shape.length;
  const last = rank - 1;
  const n = shape[last];
  const counter = new Array<number>(rank).fill(0);
  let xi = 0;
  let yi = 0;
  for (let o = 0; o < total; o += n) {
    run(xi, xStrides[last], yi, yStrides[last], o, n);
    for (let d = last - 1; d >= 0; d--) {
      xi += xStrides[d];
      yi += yStrides[d];
      if (++counter[d] < shape[d]) break;
      xi -= xStrides[d] * shape[d];
      yi -= yStrides[d] * shape[d];
      counter[d] = 0;
    }
  }
}

function operandDType(value: Operand): DType {
  return value instanceof Tensor ? value.dtype : typeof value === 'boolean' ? 'bool' : 'int64';
}

/** `value` as a typed array of `dtype`: a tensor converted, a plain value as one element. */
function operandData(value: Operand, dtype: DType): AnyTensorData {
  if (value instanceof Tensor) return value.to(dtype).data;
  const data = allocate(dtype, 1);
  const v = convertScalar(value, dtype);
  if (typeof v === 'bigint') (data as BigInt64Array)[0] = v;
  else (data as NumberData)[0] = v;
  return data;
}

function checkOperand(op: BinaryOp, value: unknown, position: number): asserts value is Operand {
  const ok = value instanceof Tensor || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean';
  if (!ok) throw new TypeError(`${op}(): argument '${position === 0 ? 'input' : 'other'}' (position ${position + 1}) must be Tensor or Number, not ${describe(value)}`);
}

/**
 * `a op b` elementwise with broadcasting, in the dtype PyTorch's promotion gives (true division of
 * integers gives float32). A plain number acts as a Python scalar: an integral one as an int, any other
 * as a float.
 */
export function binary(op: BinaryOp, a: Operand, b: Operand): AnyTensor {
  checkOperand(op, a, 0);
  checkOperand(op, b, 1);
  if (op === 'sub') {
    const aBool = operandDType(a) === 'bool';
    const bBool = operandDType(b) === 'bool';
    if (aBool && bBool) throw new TypeError('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.');
    if (aBool || bBool) {
      throw new TypeError('Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.');
    }
  }
  const promoted = resultTypeOf([a, b]);
  const dtype: DType = op === 'div' && !isFloatDType(promoted) ? 'float32' : promoted;
  const aShape = a instanceof Tensor ? a.shape : [];
  const bShape = b instanceof Tensor ? b.shape : [];
  const shape = broadcastShapes(aShape, bShape);
  let kernel = op === 'add' ? Kernel.Add : op === 'sub' ? Kernel.Sub : op === 'mul' ? Kernel.Mul : Kernel.Div;
  if (dtype === 'bool' && kernel === Kernel.Add) kernel = Kernel.Or;
  if (dtype === 'int32' && kernel === Kernel.Mul) kernel = Kernel.Imul;
  const out = allocate(dtype, product(shape));
  apply(kernel, operandData(a, dtype), aShape, operandData(b, dtype), bShape, out, shape);
  return new Tensor<DType>(out, shape, dtype);
}

/** The elementwise float functions, each one loop. */
export enum FloatFunction {
  Exp,
  Log,
  Sigmoid,
  Tanh,
  Gelu,
  GeluTanh,
}

const SQRT_HALF = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SQRT_TWO_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * erf(x) to double precision: the series 2/√π·e^(-x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), whose terms are all
 * positive (no cancellation), below |x| = 3; beyond it, 1 - erfc(x) from erfc's continued fraction.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (z !== z) return x;
  if (z < 3) {
    const z2 = z * z;
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (2 * z2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-z2) * sum;
    return x < 0 ? -r : r;
  }
  if (z > 6) return x < 0 ? -1 : 1;
  // erfc(z) = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from the tail.
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  const erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/**
 * `fn` of every element, as a new float tensor: a float input keeps its dtype, an integer or bool one
 * gives float32 (as `torch.exp` of an int tensor does).
 */
export function mapFloat(t: AnyTensor, fn: FloatFunction): AnyTensor {
  const dtype: DType = isFloatDType(t.dtype) ? t.dtype : 'float32';
  const x = t.to(dtype).data as NumberData;
  const out = allocate(dtype, x.length) as NumberData;
  const n = x.length;
  switch (fn) {
    case FloatFunction.Exp:
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      break;
    case FloatFunction.Log:
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      break;
    case FloatFunction.Sigmoid:
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      break;
    case FloatFunction.Tanh:
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      break;
    case FloatFunction.Gelu:
      for (let i = 0; i < n; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] * SQRT_HALF));
      break;
    case FloatFunction.GeluTanh:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + Math.tanh(SQRT_TWO_OVER_PI * (v + 0.044715 * v * v * v)));
      }
      break;
  }
  return new Tensor<DType>(out, t.shape, dtype);
}

/** PyTorch's `exp()`. */
export function exp(t: AnyTensor): AnyTensor {
  return mapFloat(t, FloatFunction.Exp);
}

/** PyTorch's `log()` (natural logarithm; NaN below 0, -Infinity at 0). */
export function log(t: AnyTensor): AnyTensor {
  return mapFloat(t, FloatFunction.Log);
}

