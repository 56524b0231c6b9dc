/**
 * The globals a `torch.save` pickle may name, as PyTorch's `weights_only` unpickler allows them: tensor
 * rebuild functions, storage classes, `collections.OrderedDict`, `torch.Size`, `torch.device`, dtypes and
 * `_codecs.encode` (how protocol 2 pickles bytes). Each is a small object whose REDUCE does the one thing
 * the name means here; nothing is looked up by name and nothing else can be reached.
 *
 * @packageDocumentation
 */
import { STORAGE_FORMATS, RebuiltTensor, Storage, viewOfStorage, type StorageFormat, type LoadBudget } from './torch_storage';
import { PickleTuple, type PickleGlobal } from './unpickler';

/** What a refusal suggests: what loadTorch reads, and how to save a model so that it loads. */
export const WHAT_LOADS =
  'loadTorch reads what torch.load(weights_only=True) reads (tensors, dicts, lists, tuples, numbers, strings, bytes, ' +
  'None, torch.Size, torch.device); for a model, save model.state_dict() with torch.save';

/** The refusal of a global outside the allowlist, in PyTorch's words, with what to do instead. */
export function unsupportedGlobal(qualifiedName: string): Error {
  return new Error(`Unsupported global: GLOBAL ${qualifiedName} was not an allowed global; nothing was run. ${WHAT_LOADS}`);
}

/** A storage class named in the pickle (`torch.FloatStorage`); it only marks a storage's dtype. */
export class StorageClass implements PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly format: StorageFormat,
  ) {}

  call(): never {
    throw new Error(`${this.qualifiedName} is a storage class: it may only name a persistent storage, not be called`);
  }
}

/** A torch dtype named as a value (`torch.float16`); it loads as the string Python's `str()` gives. */
export class DTypeGlobal implements PickleGlobal {
  constructor(readonly qualifiedName: string) {}

  call(): never {
    throw new Error(`${this.qualifiedName} is a dtype: it cannot be called`);
  }
}

/** An allowed global that PyTorch can load but this library cannot represent (sparse, meta, quantized tensors). */
class UnrepresentableGlobal implements PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly what: string,
  ) {}

  call(): never {
    throw new Error(`${this.qualifiedName} rebuilds ${this.what}, which loadTorch cannot represent; save dense CPU tensors (tensor.to_dense().cpu())`);
  }
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function integerTuple(value: unknown, what: string): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every(isNonNegativeInteger)) {
    throw new Error(`malformed pickle: a tensor's ${what} should be a tuple of non-negative integers`);
  }
  return value.items as number[];
}

function rebuildTensor(name: string, args: readonly unknown[], budget: LoadBudget): RebuiltTensor {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]);
  // the older _rebuild_tensor(storage, storage_offset, size, stride).
  const arities = name === '_rebuild_tensor' ? [4] : [6, 7];
  if (!arities.includes(args.length)) {
    throw new Error(`malformed pickle: ${name} takes ${arities.join(' or ')} arguments, got ${args.length}`);
  }
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Storage)) throw new Error(`malformed pickle: ${name} was not given a storage`);
  if (!isNonNegativeInteger(offset)) throw new Error('malformed pickle: a storage offset should be a non-negative integer');
  return viewOfStorage(storage, offset, integerTuple(size, 'size'), integerTuple(stride, 'stride'), budget);
}

function rebuildParameter(name: string, args: readonly unknown[]): RebuiltTensor {
  // _rebuild_parameter(data, requires_grad, backward_hooks) and
  // _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state): a Parameter is its data here.
  const arity = name === '_rebuild_parameter' ? 3 : 4;
  if (args.length !== arity || !(args[0] instanceof RebuiltTensor)) {
    throw new Error(`malformed pickle: ${name} was not given a tensor`);
  }
  return args[0];
}

/** `torch.Size((2, 3))`, which loads as the array of sizes. */
function size(args: readonly unknown[]): number[] {
  if (args.length !== 1) throw new Error(`malformed pickle: torch.Size takes 1 argument, got ${args.length}`);
  return integerTuple(args[0], 'torch.Size');
}

/** `torch.device('cuda', 1)`, which loads as the string `str()` gives: `'cuda:1'`. */
function device(args: readonly unknown[]): string {
  const [type, index] = args;
  const valid = typeof type === 'string' && /^[a-z_]{1,32}(:\d{1,9})?$/.test(type) &&
    (args.length === 1 || (args.length === 2 && (index === null || isNonNegativeInteger(index))));
  if (!valid) throw new Error('malformed pickle: torch.device takes a device type and an optional index');
  return args.length === 2 && index !== null ? `${type}:${index}` : (type as string);
}

/** `_codecs.encode(text, 'latin1')`: how protocol 2 pickles `bytes`, one character per byte. */
function encodeLatin1(args: readonly unknown[]): Uint8Array {
  const [text, encoding] = args;
  if (args.length !== 2 || typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw new Error("malformed pickle: _codecs.encode is only read as encode(text, 'latin1'), how bytes are pickled");
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new Error('malformed pickle: a latin1 string holds a character beyond U+00FF');
    bytes[i] = code;
  }
  return bytes;
}

function plainGlobal(qualifiedName: string, call: (args: readonly unknown[]) => unknown): PickleGlobal {
  return { qualifiedName, call };
}

/** The dtypes weights_only allows as values, by the name a pickle gives them (`torch.float16`). */
const DTYPE_NAMES = new Set([
  'float16', 'float32', 'float64', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool',
  'complex32', 'complex64', 'complex128',
]);

/**
 * The global `module.name` as the `weights_only` allowlist admits it, or an Error refusing it by name.
 * Tensor rebuilds spend from `budget`, so that what a pickle makes us allocate stays bounded by the file.
 */
export function findTorchGlobal(module: string, name: string, budget: LoadBudget): PickleGlobal {
  const qualifiedName = `${module}.${name}`;
  if (module === 'torch' && Object.hasOwn(STORAGE_FORMATS, name)) return new StorageClass(qualifiedName, STORAGE_FORMATS[name]);
  if (module === 'torch' && DTYPE_NAMES.has(name)) return new DTypeGlobal(qualifiedName);
  switch (qualifiedName) {
    case 'collections.OrderedDict':
      return plainGlobal(qualifiedName, (args) => {
        if (args.length !== 0) throw new Error('malformed pickle: OrderedDict is built empty, then filled');
        return new Map();
      });
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor':
      return plainGlobal(qualifiedName, (args) => rebuildTensor(name, args, budget));
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return plainGlobal(qualifiedName, (args) => rebuildParameter(name, args));
    case 'torch.Size':
      return plainGlobal(qualifiedName, size);
    case 'torch.device':
      return plainGlobal(qualifiedName, device);
    case '_codecs.encode':
      return plainGlobal(qualifiedName, encodeLatin1);
    case 'torch._utils._rebuild_sparse_tensor':
    case 'torch._utils._rebuild_sparse_csr_tensor':
      return new UnrepresentableGlobal(qualifiedName, 'a sparse tensor');
    case 'torch._utils._rebuild_meta_tensor_no_storage':
      return new UnrepresentableGlobal(qualifiedName, 'a meta tensor (a shape without data)');
    case 'torch._utils._rebuild_qtensor':
      return new UnrepresentableGlobal(qualifiedName, 'a quantized tensor');
    default:
      throw unsupportedGlobal(qualifiedName);
  }
}
