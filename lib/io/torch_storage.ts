/**
 * The storages of a `torch.save` archive (`data/<key>` entries) and the tensors rebuilt as views of them:
 * which storage classes hold which dtype, how their bytes decode, and how a view becomes a Tensor.
 *
 * @packageDocumentation
 */
import { endianness } from 'node:os';
import { Tensor, type DType } from '../tensor';
import { STORED_FLOAT_SIZE, decodeFloats, type StoredFloat } from './float_bytes';
import { checkStridedView, gatherStrided } from './strided';

/** The element formats a storage may hold and this library reads. */
export type StoredElement = StoredFloat | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** What one storage class of PyTorch holds. */
export interface StorageFormat {
  /** How the bytes are stored; undefined for a dtype this library cannot hold (complex, quantized). */
  readonly stored: StoredElement | undefined;
  /** PyTorch's name of the dtype (`torch.int64`), for messages. */
  readonly torchDType: string;
}

/** The storage classes `torch.save` names (`torch.FloatStorage`), by class name. */
export const STORAGE_FORMATS: Readonly<Record<string, StorageFormat>> = {
  FloatStorage: { stored: 'float32', torchDType: 'torch.float32' },
  DoubleStorage: { stored: 'float64', torchDType: 'torch.float64' },
  HalfStorage: { stored: 'float16', torchDType: 'torch.float16' },
  BFloat16Storage: { stored: 'bfloat16', torchDType: 'torch.bfloat16' },
  LongStorage: { stored: 'int64', torchDType: 'torch.int64' },
  IntStorage: { stored: 'int32', torchDType: 'torch.int32' },
  ShortStorage: { stored: 'int16', torchDType: 'torch.int16' },
  CharStorage: { stored: 'int8', torchDType: 'torch.int8' },
  ByteStorage: { stored: 'uint8', torchDType: 'torch.uint8' },
  BoolStorage: { stored: 'bool', torchDType: 'torch.bool' },
  ComplexFloatStorage: { stored: undefined, torchDType: 'torch.complex64' },
  ComplexDoubleStorage: { stored: undefined, torchDType: 'torch.complex128' },
  QInt8Storage: { stored: undefined, torchDType: 'torch.qint8' },
  QUInt8Storage: { stored: undefined, torchDType: 'torch.quint8' },
  QInt32Storage: { stored: undefined, torchDType: 'torch.qint32' },
  QUInt4x2Storage: { stored: undefined, torchDType: 'torch.quint4x2' },
  QUInt2x4Storage: { stored: undefined, torchDType: 'torch.quint2x4' },
};

/** Bytes per element of each stored format. */
export const STORED_ELEMENT_SIZE: Readonly<Record<StoredElement, number>> = {
  ...STORED_FLOAT_SIZE,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** The dtype a stored format loads as: the 16-bit floats widen to float32, as `tensor.float()` does. */
export function loadedDType(stored: StoredElement): DType {
  return stored === 'float16' || stored === 'bfloat16' ? 'float32' : (stored as DType);
}

/** The typed array each stored format decodes into. */
export type StorageArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

const INTEGER_ARRAYS = {
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/** The elements of `bytes` stored as an integer or bool format, in a new aligned array of the host's byte order. */
function decodeIntegers(bytes: Uint8Array, stored: keyof typeof INTEGER_ARRAYS, littleEndian: boolean): StorageArray {
  const size = STORED_ELEMENT_SIZE[stored];
  // A fresh copy: the source may sit at any offset of a larger file, and the result must not alias it.
  const copy = new Uint8Array(bytes);
  if (littleEndian !== HOST_LITTLE_ENDIAN && size > 1) {
    for (let at = 0; at < copy.length; at += size) copy.subarray(at, at + size).reverse();
  }
  if (stored === 'bool') {
    // PyTorch writes 0 and 1; any other byte is still true, and is kept as 1 so that a bool tensor holds 0/1.
    for (let i = 0; i < copy.length; i++) copy[i] = copy[i] === 0 ? 0 : 1;
  }
  return new INTEGER_ARRAYS[stored](copy.buffer, 0, copy.length / size);
}

/** The elements of a storage's bytes, decoded (and widened, for the 16-bit floats) into a new array. */
export function decodeStorage(bytes: Uint8Array, stored: StoredElement, littleEndian: boolean): StorageArray {
  if (stored in INTEGER_ARRAYS) return decodeIntegers(bytes, stored as keyof typeof INTEGER_ARRAYS, littleEndian);
  return decodeFloats(bytes, stored as StoredFloat, littleEndian);
}

/** One storage of the archive (`data/<key>`): several tensors may be views of it. */
export class Storage {
  #elements: StorageArray | undefined;

  constructor(
    /** `torch.FloatStorage`, as the pickle named the class. */
    readonly className: string,
    readonly format: StorageFormat,
    readonly key: string,
    readonly numel: number,
    readonly readBytes: () => Uint8Array,
    readonly littleEndian: boolean,
  ) {}

  /** The elements, read and decoded once however many tensors share the storage. */
  elements(stored: StoredElement): StorageArray {
    if (this.#elements === undefined) {
      const bytes = this.readBytes();
      const expected = this.numel * STORED_ELEMENT_SIZE[stored];
      if (bytes.length !== expected) {
        throw new Error(
          `storage '${this.key}' should hold ${this.numel} ${stored} elements (${expected} bytes) but its entry has ${bytes.length} bytes`,
        );
      }
      this.#elements = decodeStorage(bytes, stored, this.littleEndian);
    }
    return this.#elements;
  }
}

/** What a rebuild function gives: a Tensor, or the dtype that kept it from being one. */
export class RebuiltTensor {
  constructor(
    readonly tensor: Tensor<DType> | undefined,
    /** For a dtype this library cannot hold: PyTorch's dtype and the storage class. */
    readonly unsupportedDType?: string,
  ) {}
}

/**
 * Bounds the bytes that rebuilt tensors may take, relative to the storages in the file. Views copy their
 * elements, and a pickle could call the rebuild on one large storage again and again; real state dicts
 * view each storage a few times at most (float16 doubles in size as float32).
 */
export class TensorBudget {
  #left: number;

  constructor(storageBytes: number) {
    this.#left = 8 * storageBytes + 2 ** 20;
  }

  spend(bytes: number): void {
    this.#left -= bytes;
    if (this.#left < 0) {
      throw new Error('refusing to load: the tensors view their storages many times over (far more data than the file holds)');
    }
  }
}

/** The view of `storage` given by `_rebuild_tensor_v2`'s offset, size and stride, as a contiguous Tensor. */
export function viewOfStorage(storage: Storage, offset: number, shape: number[], stride: number[], budget: TensorBudget): RebuiltTensor {
  const { stored, torchDType } = storage.format;
  if (stored === undefined) return new RebuiltTensor(undefined, `${torchDType} (${storage.className})`);
  checkStridedView(shape, stride, offset, storage.numel);
  const dtype = loadedDType(stored);
  const numel = shape.reduce((n, s) => n * s, 1);
  budget.spend(numel * (dtype === 'float32' ? 4 : STORED_ELEMENT_SIZE[stored]));
  const data = gatherStrided(storage.elements(stored), shape, stride, offset);
  return new RebuiltTensor(new Tensor<DType>(data, shape, dtype));
}
