/**
 * `torch.load` for state dicts: reads what `torch.save(model.state_dict(), path)` writes (the zip format of
 * PyTorch 1.6 and later) into Tensors, through the restricted unpickler. Only the globals a state dict
 * needs are known; a file that pickles anything else (a whole module, a function) is refused unread.
 *
 * @packageDocumentation
 */
import { Tensor, type TensorData } from '../tensor';
import { STORED_FLOAT_SIZE, decodeFloats, type StoredFloat } from './float_bytes';
import { parseSource, type FileSource } from './source';
import { checkStridedView, gatherStrided } from './strided';
import { PickleTuple, unpickle, type PickleGlobal, type UnpicklerHooks } from './unpickler';
import { readZip, type ZipArchive } from './zip';

const SAVE_STATE_DICT = 'save model.state_dict() with torch.save instead';

/** The storage classes a state dict of float tensors uses, with the format of their elements. */
const FLOAT_STORAGES: Readonly<Record<string, StoredFloat>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
};

/** Storage classes PyTorch writes for other dtypes: known, so that refusing them can name the dtype. */
const OTHER_STORAGES: Readonly<Record<string, string>> = {
  LongStorage: 'torch.int64',
  IntStorage: 'torch.int32',
  ShortStorage: 'torch.int16',
  CharStorage: 'torch.int8',
  ByteStorage: 'torch.uint8',
  BoolStorage: 'torch.bool',
  ComplexFloatStorage: 'torch.complex64',
  ComplexDoubleStorage: 'torch.complex128',
  QInt8Storage: 'torch.qint8',
  QUInt8Storage: 'torch.quint8',
  QInt32Storage: 'torch.qint32',
  QUInt4x2Storage: 'torch.quint4x2',
  QUInt2x4Storage: 'torch.quint2x4',
};

function refuseGlobal(qualifiedName: string): never {
  throw new Error(`refusing to load '${qualifiedName}': this file holds a pickled object, not a state_dict; ${SAVE_STATE_DICT}`);
}

/** A storage class named in the pickle (`torch.FloatStorage`); it only marks a storage's dtype. */
class StorageType implements PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    /** The element format, or undefined for a dtype this library does not read. */
    readonly format: StoredFloat | undefined,
    /** PyTorch's name of the dtype, for messages. */
    readonly torchDType: string,
  ) {}

  call(): never {
    return refuseGlobal(this.qualifiedName);
  }
}

/** One storage of the archive (`data/<key>`): several tensors may be views of it. */
class Storage {
  #elements: TensorData | undefined;

  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
    readonly readBytes: () => Uint8Array,
    readonly littleEndian: boolean,
  ) {}

  /** The elements, read and decoded once however many tensors share the storage. */
  elements(format: StoredFloat): TensorData {
    if (this.#elements === undefined) {
      const bytes = this.readBytes();
      const expected = this.numel * STORED_FLOAT_SIZE[format];
      if (bytes.length !== expected) {
        throw new Error(
          `storage '${this.key}' should hold ${this.numel} ${format} elements (${expected} bytes) but its entry has ${bytes.length} bytes`,
        );
      }
      this.#elements = decodeFloats(bytes, format, this.littleEndian);
    }
    return this.#elements;
  }
}

/** What `_rebuild_tensor_v2` gives: a Tensor, or the dtype that kept it from being one. */
class RebuiltTensor {
  constructor(
    readonly tensor: Tensor | undefined,
    readonly unsupportedDType?: string,
  ) {}
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function integerTuple(value: unknown, what: string): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every(isNonNegativeInteger)) {
    throw new Error(`malformed state_dict: a tensor's ${what} should be a tuple of non-negative integers`);
  }
  return value.items as number[];
}

/**
 * Bounds the bytes that rebuilt tensors may take, relative to the storages in the file. Views copy their
 * elements, and a pickle could call the rebuild on one large storage again and again; real state dicts
 * view each storage a few times at most (float16 doubles in size as float32).
 */
class TensorBudget {
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

function rebuildTensor(args: readonly unknown[], budget: TensorBudget): RebuiltTensor {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.length !== 6 && args.length !== 7) throw new Error(`malformed state_dict: _rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
  const [storage, offset, sizeTuple, strideTuple] = args;
  if (!(storage instanceof Storage)) throw new Error('malformed state_dict: _rebuild_tensor_v2 was not given a storage');
  if (!isNonNegativeInteger(offset)) throw new Error('malformed state_dict: a storage offset should be a non-negative integer');
  const shape = integerTuple(sizeTuple, 'size');
  const stride = integerTuple(strideTuple, 'stride');
  const format = storage.type.format;
  if (format === undefined) return new RebuiltTensor(undefined, `${storage.type.torchDType} (${storage.type.qualifiedName})`);
  checkStridedView(shape, stride, offset, storage.numel);
  budget.spend(shape.reduce((n, s) => n * s, 1) * (format === 'float64' ? 8 : 4));
  return new RebuiltTensor(new Tensor(gatherStrided(storage.elements(format), shape, stride, offset), shape));
}

function rebuildParameter(args: readonly unknown[]): RebuiltTensor {
  // (data, requires_grad, backward_hooks[, state]): a Parameter is its data here.
  if ((args.length !== 3 && args.length !== 4) || !(args[0] instanceof RebuiltTensor)) {
    throw new Error('malformed state_dict: _rebuild_parameter was not given a tensor');
  }
  return args[0];
}

function storageType(name: string): StorageType | undefined {
  const qualifiedName = `torch.${name}`;
  if (Object.hasOwn(FLOAT_STORAGES, name)) return new StorageType(qualifiedName, FLOAT_STORAGES[name], `torch.${FLOAT_STORAGES[name]}`);
  if (Object.hasOwn(OTHER_STORAGES, name)) return new StorageType(qualifiedName, undefined, OTHER_STORAGES[name]);
  return undefined;
}

function plainGlobal(qualifiedName: string, call: (args: readonly unknown[]) => unknown): PickleGlobal {
  return { qualifiedName, call };
}

/** The only globals a state dict pickle names. */
function findStateDictGlobal(module: string, name: string, budget: TensorBudget): PickleGlobal {
  const qualifiedName = `${module}.${name}`;
  if (module === 'torch') {
    const type = storageType(name);
    if (type !== undefined) return type;
  }
  switch (qualifiedName) {
    case 'collections.OrderedDict':
      return plainGlobal(qualifiedName, (args) => {
        if (args.length !== 0) throw new Error('malformed state_dict: OrderedDict is built empty, then filled');
        return new Map();
      });
    case 'torch._utils._rebuild_tensor_v2':
      return plainGlobal(qualifiedName, (args) => rebuildTensor(args, budget));
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return plainGlobal(qualifiedName, rebuildParameter);
    default:
      return refuseGlobal(qualifiedName);
  }
}

/** The layout of a PyTorch zip archive: every entry sits under one top folder whose name varies. */
interface TorchArchive {
  zip: ZipArchive;
  /** The top folder with its slash (`archive/`), or '' when entries sit at the root. */
  prefix: string;
  littleEndian: boolean;
}

function openTorchArchive(bytes: Uint8Array): TorchArchive {
  const zip = readZip(bytes);
  const pickles = [...zip.entries.keys()].filter((name) => /^([^/]+\/)?data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw new Error(
      pickles.length === 0
        ? 'not a torch.save file: the zip has no data.pkl'
        : `not a torch.save file: the zip has ${pickles.length} data.pkl entries (${pickles.join(', ')})`,
    );
  }
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`)) {
    throw new Error(`this is a TorchScript archive (torch.jit.save), not a state_dict; ${SAVE_STATE_DICT}`);
  }
  let littleEndian = true;
  // PyTorch records the byte order since 2.1; older files are little-endian.
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`));
    if (order !== 'little' && order !== 'big') throw new Error(`unknown byte order '${order}' in ${prefix}byteorder`);
    littleEndian = order === 'little';
  }
  return { zip, prefix, littleEndian };
}

function stateDictHooks(archive: TorchArchive): UnpicklerHooks {
  const storages = new Map<string, Storage>();
  let storageBytes = 0;
  for (const [name, entry] of archive.zip.entries) if (name.startsWith(`${archive.prefix}data/`)) storageBytes += entry.uncompressedSize;
  const budget = new TensorBudget(storageBytes);
  return {
    findGlobal: (module, name) => findStateDictGlobal(module, name, budget),
    persistentLoad(pid: unknown): Storage {
      // ('storage', storage_type, key, location, numel)
      const items = pid instanceof PickleTuple ? pid.items : [];
      const [tag, type, key, location, numel] = items;
      if (items.length !== 5 || tag !== 'storage' || !(type instanceof StorageType) || typeof key !== 'string' || typeof location !== 'string' || !isNonNegativeInteger(numel)) {
        throw new Error('malformed state_dict: a persistent id is not (\'storage\', type, key, location, numel)');
      }
      const known = storages.get(key);
      if (known !== undefined) {
        if (known.type.qualifiedName !== type.qualifiedName || known.numel !== numel) {
          throw new Error(`malformed state_dict: storage '${key}' is described twice, differently`);
        }
        return known;
      }
      const entry = `${archive.prefix}data/${key}`;
      if (!archive.zip.entries.has(entry)) throw new Error(`storage '${key}' is missing: the zip has no entry '${entry}'`);
      const storage = new Storage(type, key, numel, () => archive.zip.read(entry), archive.littleEndian);
      storages.set(key, storage);
      return storage;
    },
    build(target: unknown, state: unknown): void {
      // state_dict() sets `_metadata` (module versions) as an attribute of the OrderedDict: not an entry.
      if (target instanceof Map && (state instanceof Map || state === null)) return;
      throw new Error(`malformed state_dict: BUILD applies to ${target instanceof RebuiltTensor ? 'a tensor' : 'something other than a dict'}`);
    },
  };
}

function describeEntry(value: unknown): string {
  if (value instanceof Map) return 'a dict';
  if (value instanceof PickleTuple) return 'a tuple';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'None';
  return `${typeof value} ${String(value)}`;
}

function toStateDict(value: unknown): Record<string, Tensor> {
  if (!(value instanceof Map)) {
    throw new Error(`the file holds ${value instanceof RebuiltTensor ? 'a single tensor' : describeEntry(value)}, not a state_dict (a dict of tensors); ${SAVE_STATE_DICT}`);
  }
  // No prototype: a key such as '__proto__' is an entry like any other.
  const result: Record<string, Tensor> = Object.create(null);
  for (const [key, entry] of value) {
    if (typeof key !== 'string') throw new Error(`state_dict key ${describeEntry(key)} is not a string`);
    if (!(entry instanceof RebuiltTensor)) {
      throw new Error(
        `state_dict entry '${key}' holds ${describeEntry(entry)}, not a tensor; loadTorch reads a flat state_dict (` +
          `for a checkpoint dict, save its state_dict entry on its own)`,
      );
    }
    if (entry.tensor === undefined) {
      throw new Error(`tensor '${key}' has dtype ${entry.unsupportedDType}; only float32, float64, float16 and bfloat16 tensors can be loaded`);
    }
    result[key] = entry.tensor;
  }
  return result;
}

function refuseOtherFormats(bytes: Uint8Array): void {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new Error(
      "this file is in PyTorch's legacy serialization format (torch.save with _use_new_zipfile_serialization=False, or a " +
        'PyTorch older than 1.6); re-save it with a current PyTorch: torch.save(torch.load(path), new_path)',
    );
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic === '\x93NUMPY') throw new Error('this is a numpy .npy file, not a torch.save file; read it with loadNpy');
  if (bytes.length >= 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0) {
    throw new Error('this looks like a safetensors file, not a torch.save file; read it with loadSafetensors');
  }
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new Error("not a torch.save file: it should be a zip archive (starting with 'PK')");
  }
}

/**
 * The state dict in the bytes of a `torch.save` file, keys in file order. See {@link loadTorch}.
 *
 * @throws Error naming the problem for anything but a state dict of float tensors in a sound archive.
 */
export function parseTorch(bytes: Uint8Array): Record<string, Tensor> {
  refuseOtherFormats(bytes);
  const archive = openTorchArchive(bytes);
  const pickle = archive.zip.read(`${archive.prefix}data.pkl`);
  return toStateDict(unpickle(pickle, stateDictHooks(archive)));
}

/**
 * Reads a state dict saved with `torch.save(model.state_dict(), path)` (PyTorch 1.6 or later), from a path
 * or from the file's bytes. Keys keep their file order; ready for `module.loadStateDict`.
 *
 * float32 and float64 tensors load as they are; float16 and bfloat16 become float32, exactly as
 * `tensor.float()`. Views (offsets, strides, storages shared between keys) become contiguous Tensors.
 *
 * Nothing in the file is executed: the pickle is read by a restricted reader that knows only the names a
 * state dict uses. A file holding a pickled module (`torch.save(model)`), any other object, a TorchScript
 * archive, a tensor of another dtype, or PyTorch's legacy pre-1.6 format is refused with an Error that
 * says what was found.
 *
 * @example
 * ```ts
 * const lstm = new LSTM(10, 20, 2);
 * lstm.loadStateDict(await loadTorch('lstm.pt'));
 * ```
 */
export async function loadTorch(source: FileSource): Promise<Record<string, Tensor>> {
  return parseSource(source, parseTorch);
}
