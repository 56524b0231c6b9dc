/**
 * One weight matrix held at reduced precision: the stored values (and int8 scales), never a float32 copy.
 *
 * @packageDocumentation
 */
import { bfloat16BitsToFloatBits, halfBitsToFloatBits } from '../io/half';
import { native } from '../native';
import { Tensor } from '../tensor';
import type { QuantizedDType } from './dtype';

/**
 * A `(rows, cols)` weight as the engine stores it. The conversion is the engine's (the one place that
 * rounds), done once; {@link QuantizedWeight.dequantize} reads it back exactly.
 */
export class QuantizedWeight {
  /** The stored precision. */
  readonly dtype: QuantizedDType;
  /** `[rows, cols]`, as the float matrix. */
  readonly shape: readonly [number, number];
  /** bfloat16 / float16 bits, or int8 values, row-major. */
  readonly values: Uint16Array | Int8Array;
  /** qint8: each row's scale (`weight ≈ value * scale`); null otherwise. */
  readonly scales: Float32Array | null;

  private constructor(dtype: QuantizedDType, shape: [number, number], values: Uint16Array | Int8Array, scales: Float32Array | null) {
    this.dtype = dtype;
    this.shape = shape;
    this.values = values;
    this.scales = scales;
  }

  /**
   * `weight` (a float32 matrix) converted as PyTorch converts it: `weight.to(torch.bfloat16)` /
   * `.to(torch.float16)` (round to nearest even), or for qint8 `torch.quantize_per_channel` with the
   * scales of PyTorch's per-channel symmetric observer (`max(|min|, |max|) / 127.5` per row).
   *
   * @throws Error for a qint8 weight holding NaN or an infinity (no scale represents it)
   */
  static quantize(weight: Tensor, dtype: QuantizedDType): QuantizedWeight {
    if (weight.dtype !== 'float32' || weight.dim() !== 2) {
      throw new TypeError(`only float32 matrices are quantized, got a ${weight.dtype} tensor of shape [${weight.shape}]`);
    }
    const [rows, cols] = weight.shape;
    const { values, scales } = native.quantizeWeight(dtype, weight.data as Float32Array, rows, cols);
    return new QuantizedWeight(dtype, [rows, cols], values, scales);
  }

  /** The same weight in new arrays. */
  clone(): QuantizedWeight {
    return new QuantizedWeight(this.dtype, [...this.shape], this.values.slice(), this.scales?.slice() ?? null);
  }

  /** Bytes the stored values and scales take. */
  get nbytes(): number {
    return this.values.byteLength + (this.scales?.byteLength ?? 0);
  }

  /** The weight as float32, exactly the values the kernels compute with (bits widened, or `value * scale`). */
  dequantize(): Tensor {
    const out = new Float32Array(this.values.length);
    if (this.dtype === 'qint8') {
      const cols = this.shape[1];
      const scales = this.scales as Float32Array;
      // value * scale is exact in a double (8 + 24 significant bits); the store rounds it once, as float32's product.
      for (let i = 0; i < out.length; i++) out[i] = this.values[i] * scales[Math.floor(i / cols)];
    } else {
      const bits = new Uint32Array(out.buffer);
      const widen = this.dtype === 'bfloat16' ? bfloat16BitsToFloatBits : halfBitsToFloatBits;
      for (let i = 0; i < out.length; i++) bits[i] = widen(this.values[i]);
    }
    return new Tensor(out, [...this.shape]);
  }
}
