/**
 * `torch.load(f, weights_only=True)` in Node: reads what `torch.save` writes (the zip format of PyTorch
 * 1.6 and later) through the restricted unpickler, with only the globals PyTorch's `weights_only`
 * unpickler allows. A file that pickles anything else (a whole module, a function) is refused unrun.
 *
 * @packageDocumentation
 */
import { refuseOtherFormat } from './file_format';
import { findTorchGlobal, StorageClass, WHAT_LOADS } from './torch_globals';
import { DEFAULT_MAX_BYTES, LoadBudget, Storage, type StorageEntry } from './torch_storage';
import { toLoadedValue } from './torch_values';
import { parseSource, type FileSource } from './source';
import { DEFAULT_UNPICKLER_LIMITS, PickleTuple, unpickle, type UnpicklerHooks, type UnpicklerLimits } from './unpickler';
import { readZip, type ZipArchive } from './zip';

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Options of {@link loadTorch} and {@link parseTorch}. */
export interface TorchLoadOptions {
  /**
   * The most memory, in bytes, the load may take for the file's data: entries inflated, storages
   * decoded (float16 and bfloat16 twice their size), views copied. A file that needs more is refused
   * before the memory is taken. Default 2 GiB (2147483648).
   */
  maxBytes?: number;
}

/**
 * The unpickler's limits for a file of `fileBytes`. The work a pickle may ask for grows with the file:
 * torch.save stores its pickle uncompressed, so a genuine file holds at least a byte per opcode; the
 * margin (64 per byte, plus 4M) leaves room for archives recompressed with deflate.
 */
export function unpicklerLimitsFor(fileBytes: number): UnpicklerLimits {
  return { ...DEFAULT_UNPICKLER_LIMITS, maxWork: Math.min(DEFAULT_UNPICKLER_LIMITS.maxWork, 64 * fileBytes + 2 ** 22) };
}

function checkOptions(options: TorchLoadOptions): number {
  if (typeof options !== 'object' || options === null) throw new TypeError('loadTorch options should be an object, e.g. { maxBytes: 2 ** 32 }');
  const { maxBytes = DEFAULT_MAX_BYTES } = options;
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0) || !Number.isSafeInteger(maxBytes)) {
    throw new TypeError(`maxBytes should be a non-negative integer number of bytes, got ${String(maxBytes)}`);
  }
  return maxBytes;
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
    throw new Error(`this is a TorchScript archive (torch.jit.save), not a state_dict or checkpoint; ${WHAT_LOADS}`);
  }
  let littleEndian = true;
  // PyTorch records the byte order since 2.1; older files are little-endian.
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined) {
    // 'little' or 'big': anything longer is no byte order, and is not inflated to find out.
    if (byteorder.uncompressedSize > 16) throw new Error(`unknown byte order in ${prefix}byteorder (${byteorder.uncompressedSize} bytes)`);
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`));
    if (order !== 'little' && order !== 'big') throw new Error(`unknown byte order '${order}' in ${prefix}byteorder`);
    littleEndian = order === 'little';
  }
  return { zip, prefix, littleEndian };
}

function storageEntry(zip: ZipArchive, name: string): StorageEntry {
  const entry = zip.entries.get(name)!;
  return { size: entry.uncompressedSize, inflates: entry.method !== 0, read: () => zip.read(name) };
}

function torchHooks(archive: TorchArchive, budget: LoadBudget): UnpicklerHooks {
  const storages = new Map<string, Storage>();
  return {
    findGlobal: (module, name) => findTorchGlobal(module, name, budget),
    persistentLoad(pid: unknown): Storage {
      // ('storage', storage_type, key, location, numel); the location (cpu, cuda:0) is ignored, as
      // map_location='cpu' would.
      const items = pid instanceof PickleTuple ? pid.items : [];
      const [tag, type, key, location, numel] = items;
      if (items.length !== 5 || tag !== 'storage' || !(type instanceof StorageClass) || typeof key !== 'string' || typeof location !== 'string' || !isNonNegativeInteger(numel)) {
        throw new Error("malformed pickle: a persistent id is not ('storage', type, key, location, numel)");
      }
      const known = storages.get(key);
      if (known !== undefined) {
        if (known.className !== type.qualifiedName || known.numel !== numel) {
          throw new Error(`malformed pickle: storage '${key}' is described twice, differently`);
        }
        return known;
      }
      const entry = `${archive.prefix}data/${key}`;
      if (!archive.zip.entries.has(entry)) throw new Error(`storage '${key}' is missing: the zip has no entry '${entry}'`);
      const storage = new Storage(type.qualifiedName, type.format, key, numel, storageEntry(archive.zip, entry), archive.littleEndian);
      storages.set(key, storage);
      return storage;
    },
    build(target: unknown, state: unknown): void {
      // state_dict() sets `_metadata` (module versions) as an attribute of the OrderedDict: not an entry,
      // and torch.load's result does not show it among the entries either.
      if (target instanceof Map && (state instanceof Map || state === null)) return;
      throw new Error('malformed pickle: BUILD applies only to the attributes of an OrderedDict here');
    },
  };
}

function refuseOtherFormats(bytes: Uint8Array): void {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new Error(
      "this file is in PyTorch's legacy serialization format (torch.save with _use_new_zipfile_serialization=False, or a " +
        'PyTorch older than 1.6); re-save it with a current PyTorch: torch.save(torch.load(path), new_path)',
    );
  }
  refuseOtherFormat(bytes, 'torch');
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new Error("not a torch.save file: it should be a zip archive (starting with 'PK')");
  }
}

/**
 * What the `torch.save` file in `bytes` holds, as {@link loadTorch} returns it.
 *
 * The result is typed loosely on purpose: what a checkpoint holds is the caller's knowledge, and
 * `model.loadStateDict(checkpoint.model)` must compile as written.
 *
 * @throws Error naming the problem for a file outside what `torch.load(weights_only=True)` reads, an
 * unsound archive, or one that would pass a limit (`options.maxBytes`, the pickle's limits).
 */
export function parseTorch(bytes: Uint8Array, options: TorchLoadOptions = {}): Record<string, any> {
  const budget = new LoadBudget(checkOptions(options));
  refuseOtherFormats(bytes);
  const archive = openTorchArchive(bytes);
  const pickleEntry = storageEntry(archive.zip, `${archive.prefix}data.pkl`);
  if (pickleEntry.inflates) budget.take(pickleEntry.size, 'the pickle (data.pkl)');
  const tree = unpickle(pickleEntry.read(), torchHooks(archive, budget), unpicklerLimitsFor(bytes.length));
  return toLoadedValue(tree) as Record<string, any>;
}

/**
 * Reads a `torch.save` file (PyTorch 1.6 or later), from a path or from the file's bytes, and returns what
 * `torch.load(file, weights_only=True)` returns: a state dict, or a checkpoint dict as it was saved
 * (`{ model, optimizer, epoch }`), ready for `module.loadStateDict`.
 *
 * - dicts and `OrderedDict`s → plain objects without a prototype, keys in file order (JavaScript puts
 *   integer-like keys such as `'0'` first, in ascending order); non-string keys become strings as Python's
 *   `json` writes them: `{0: ...}` in an optimizer's `state` → `{'0': ...}`, read back as `state[0]`;
 * - lists and tuples → arrays; `torch.Size` → an array of numbers;
 * - int → number (bigint beyond ±2^53), float → number, str → string, bytes → Uint8Array, bool → boolean,
 *   None → null; `torch.device` and dtypes → the string `str()` gives (`'cuda:0'`, `'torch.float16'`);
 * - tensors and Parameters → Tensors of their dtype (float64, float32, int64, int32, int16, int8, uint8,
 *   bool); float16 and bfloat16 become float32, exactly as `tensor.float()`. A contiguous view (a key
 *   sharing another's storage, at an offset) shares its storage's memory, as in PyTorch; other views
 *   (transposed, strided) become contiguous copies.
 *
 * Nothing in the file is executed: the pickle is read by a restricted reader that knows only the globals
 * PyTorch's `weights_only` unpickler allows. Anything else (a whole module saved with `torch.save(model)`,
 * any other object or function) is refused with PyTorch's `Unsupported global: GLOBAL module.name`, as
 * are TorchScript archives, complex, quantized and sparse tensors, and PyTorch's legacy pre-1.6 format.
 *
 * Memory is bounded: a storage is read once however many keys view it, every entry is inflated to
 * exactly its declared size, and a file whose data would take more than `options.maxBytes`
 * (default 2 GiB) is refused before that memory is taken. The pickle's stack, memo, containers and work
 * are bounded too (see docs/HARDENING.md).
 *
 * @example
 * ```ts
 * const checkpoint = await loadTorch('checkpoint.pt');   // torch.save({"model": sd, "epoch": 3}, ...)
 * model.loadStateDict(checkpoint.model);
 * checkpoint.epoch;                                        // 3
 * ```
 */
export async function loadTorch(source: FileSource, options: TorchLoadOptions = {}): Promise<Record<string, any>> {
  checkOptions(options);
  return parseSource(source, (bytes) => parseTorch(bytes, options));
}
