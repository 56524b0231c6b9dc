/**
 * The storages of a `torch.save` archive (`data/<key>` entries) and the tensors rebuilt as views of them:
 * which storage classes hold which dtype, the memory budget of a load, and how a view becomes a Tensor.
 *
 * @packageDocumentation
 */
import { Tensor, type DType } from '../tensor';
import { STORED_ELEMENT_SIZE, decodeElements, decodesInPlace, loadedDType, type StorageArray, type StoredElement } from './element_bytes';
import { checkStridedView, gatherStrided, isContiguous } from './strided';

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

/** The default of `maxBytes`: 2 GiB of tensor data, far beyond any recurrent model. */
export const DEFAULT_MAX_BYTES = 2 ** 31;

/**
 * The memory one load may take, counted before it is taken: entries inflated, storages decoded, views
 * copied. Two bounds: the caller's `maxBytes`, and, for copies of views, a multiple of the storages read
 * (real state dicts copy only the odd transposed view; a pickle can ask for the same view again and again).
 */
export class LoadBudget {
  #taken = 0;
  #storageBytes = 0;
  #copied = 0;

  constructor(readonly maxBytes: number) {}

  /** Takes `bytes` for `what`, or throws before anything is allocated. */
  take(bytes: number, what: string): void {
    if (this.#taken + bytes > this.maxBytes) {
      throw new Error(
        `refusing to load: ${what} needs ${bytes} bytes, which would take this load to ${this.#taken + bytes} bytes, ` +
          `beyond maxBytes (${this.maxBytes}); pass a larger maxBytes to load a file this large`,
      );
    }
    this.#taken += bytes;
  }

  /** Takes the memory of a storage: `read` bytes inflated, `decoded` bytes of elements. */
  takeStorage(read: number, decoded: number, key: string): void {
    this.take(read + decoded, `storage '${key}'`);
    this.#storageBytes += Math.max(read, decoded);
  }

  /** Takes the memory of a view's copy, bounded by 8 times the storages read (plus 1 MiB). */
  takeCopy(bytes: number): void {
    if (this.#copied + bytes > 8 * this.#storageBytes + 2 ** 20) {
      throw new Error('refusing to load: the tensors view their storages many times over (far more data than the file holds)');
    }
    this.take(bytes, 'a strided view');
    this.#copied += bytes;
  }
}

/** Where a storage's bytes are: an archive entry, read and inflated on first use. */
export interface StorageEntry {
  /** Bytes the entry declares once uncompressed. */
  readonly size: number;
  /** Whether reading allocates (a deflated entry) rather than viewing the file's bytes (a stored one). */
  readonly inflates: boolean;
  /** The entry's bytes: new memory when `inflates`, else a view of the file. */
  read(): Uint8Array;
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
    readonly entry: StorageEntry,
    readonly littleEndian: boolean,
  ) {}

  /**
   * The elements, read and decoded once however many tensors share the storage. The entry's declared size
   * is checked, and the memory taken from `budget`, before anything is read.
   */
  elements(stored: StoredElement, budget: LoadBudget): StorageArray {
    if (this.#elements === undefined) {
      const expected = this.numel * STORED_ELEMENT_SIZE[stored];
      if (this.entry.size !== expected) {
        throw new Error(
          `storage '${this.key}' should hold ${this.numel} ${stored} elements (${expected} bytes) but its entry has ${this.entry.size} bytes`,
        );
      }
      const inPlace = this.entry.inflates && decodesInPlace(stored);
      const decoded = this.numel * (loadedDType(stored) === 'float32' ? 4 : STORED_ELEMENT_SIZE[stored]);
      budget.takeStorage(this.entry.inflates ? this.entry.size : 0, inPlace ? 0 : decoded, this.key);
      this.#elements = decodeElements(this.entry.read(), stored, this.littleEndian, this.entry.inflates);
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
 * The view of `storage` given by `_rebuild_tensor_v2`'s offset, size and stride, as a Tensor. A
 * contiguous view shares the storage's memory, as PyTorch's tensors share their storage; any other view
 * is copied into row-major order, its memory taken from `budget` first.
 */
export function viewOfStorage(storage: Storage, offset: number, shape: number[], stride: number[], budget: LoadBudget): RebuiltTensor {
  const { stored, torchDType } = storage.format;
  if (stored === undefined) return new RebuiltTensor(undefined, `${torchDType} (${storage.className})`);
  checkStridedView(shape, stride, offset, storage.numel);
  const dtype = loadedDType(stored);
  const numel = shape.reduce((n, s) => n * s, 1);
  let data: StorageArray;
  if (isContiguous(shape, stride)) {
    data = storage.elements(stored, budget).subarray(offset, offset + numel);
  } else {
    const elements = storage.elements(stored, budget); // first, so that the copy's bound counts this storage
    budget.takeCopy(numel * (dtype === 'float32' ? 4 : STORED_ELEMENT_SIZE[stored]));
    data = gatherStrided(elements, shape, stride, offset);
  }
  return new RebuiltTensor(new Tensor<DType>(data, shape, dtype));
}
