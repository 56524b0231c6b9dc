/**
 * A restricted reader of Python pickles: the opcodes a pickled dict of tensors uses, and nothing that runs
 * code. Which globals a pickle may name, what calling them means and what a persistent id loads are all
 * decided by the caller's {@link UnpicklerHooks}; a pickle cannot reach anything else.
 *
 * @packageDocumentation
 */

/** A Python tuple. Kept apart from lists (JS arrays), which APPEND may extend and a tuple may not. */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {
    Object.freeze(items);
  }
}

/** A dict key: the hashable values a state dict's keys can be. */
export type PickleDictKey = string | number | bigint | boolean | null;

/** A Python dict (and `collections.OrderedDict`): insertion-ordered, as a Map is. */
export type PickleDict = Map<PickleDictKey, unknown>;

/**
 * A global the caller allows (a class or function named by GLOBAL or STACK_GLOBAL). The pickle can only
 * pass it arguments through REDUCE; what that means is the caller's `call`.
 */
export interface PickleGlobal {
  /** `module.name`, as the pickle spelled it. */
  readonly qualifiedName: string;
  /** What REDUCE with this global and `args` gives. */
  call(args: readonly unknown[]): unknown;
}

/** The caller's decisions: which globals exist, what persistent ids load, what BUILD does. */
export interface UnpicklerHooks {
  /** The global `module.name`, or throws to refuse it. */
  findGlobal(module: string, name: string): PickleGlobal;
  /** The object a persistent id (BINPERSID) stands for, or throws. */
  persistentLoad(pid: unknown): unknown;
  /** Applies BUILD's `state` to `target` (Python's `__setstate__` or `__dict__` update), or throws. */
  build(target: unknown, state: unknown): void;
}

/**
 * Bounds on what a pickle may make the reader hold or do. A pickle is a program: a few bytes can push
 * values without end, memoize them without end or append to a list without end, and a deflated archive
 * makes those bytes cheap. The bounds stop such a pickle with an Error naming the bound, long before V8's
 * own limits (a fatal "invalid size" or an exhausted heap) would end the process.
 */
export interface UnpicklerLimits {
  /** Values and marks on the stack at once. */
  readonly maxStack: number;
  /** Entries in the memo. */
  readonly maxMemo: number;
  /** Items in one list, tuple or dict. */
  readonly maxContainer: number;
  /** Units of work: one per opcode read, one per item moved into a list, tuple or dict. */
  readonly maxWork: number;
}

/**
 * Limits far beyond what `torch.save` writes, and far below what exhausts memory. Python's pickler pushes
 * lists and dicts 1,000 items at a time, so a state dict's stack holds a few thousand values at most;
 * torch.save memoizes about ten objects per tensor, so a million memo entries is 100,000 tensors; V8's Map
 * holds at most 2^24 - 1 entries. The work bound suits a pickle of up to `maxWork` bytes: callers derive
 * it from the size of the file (see torch_load.ts).
 */
export const DEFAULT_UNPICKLER_LIMITS: UnpicklerLimits = Object.freeze({
  maxStack: 1_000_000,
  maxMemo: 1_048_576,
  maxContainer: 2 ** 24 - 1,
  maxWork: 2 ** 26,
});

/** Names of the opcodes this reader implements, by byte, for messages; every other byte is refused. */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x28: 'MARK',
  0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST', 0x29: 'EMPTY_TUPLE',
  0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x6c: 'LIST', 0x64: 'DICT',
  0x58: 'BINUNICODE', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x8a: 'LONG1', 0x47: 'BINFLOAT',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4e: 'NONE',
  0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET',
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD',
  0x73: 'SETITEM', 0x75: 'SETITEMS', 0x61: 'APPEND', 0x65: 'APPENDS', 0x51: 'BINPERSID',
};

/** Names of common opcodes this reader refuses, so that the refusal can say what was found. */
const REFUSED_OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x49: 'INT',
  0x4c: 'LONG', 0x8b: 'LONG4', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE',
  0x46: 'FLOAT', 0x70: 'PUT', 0x67: 'GET', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
};

const MARK = Symbol('MARK');

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isDictKey(value: unknown): value is PickleDictKey {
  return value === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof value);
}

function describeValue(value: unknown): string {
  if (value === MARK) return 'a MARK';
  if (value === null) return 'None';
  if (value instanceof Map) return 'a dict';
  if (value instanceof PickleTuple) return 'a tuple';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' || typeof value === 'function') return (value as object).constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Reads the pickle in `bytes` and returns the object it describes. Only the opcodes of pickle protocols
 * 2 to 5 that plain data needs are read (dicts, lists, tuples, strings, numbers, booleans, None, memo,
 * globals through `hooks`, REDUCE, BUILD, persistent ids); any other opcode is refused by name.
 *
 * @throws Error naming the opcode and byte position for a refused, truncated or malformed pickle.
 */
export function unpickle(bytes: Uint8Array, hooks: UnpicklerHooks, limits: UnpicklerLimits = DEFAULT_UNPICKLER_LIMITS): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;
  let opcodeAt = 0;
  let opcodeName = '';
  let work = 0;

  const fail = (problem: string): never => {
    throw new Error(`malformed pickle: ${opcodeName} at byte ${opcodeAt}: ${problem}`);
  };
  const exceed = (limit: string, value: number): never => {
    throw new Error(
      `refusing to load: the pickle exceeds the limit on ${limit} (${value}) at byte ${opcodeAt} (${opcodeName}); ` +
        'no torch.save file needs as much: the file is damaged or made to exhaust memory',
    );
  };
  const spend = (units: number): void => {
    work += units;
    if (work > limits.maxWork) exceed('total work', limits.maxWork);
  };
  const checkSize = (size: number): void => {
    if (size > limits.maxContainer) exceed('container size', limits.maxContainer);
  };
  const take = (length: number): number => {
    if (length > bytes.length - at) fail(`needs ${length} bytes but the pickle ends ${bytes.length - at} bytes later`);
    const start = at;
    at += length;
    return start;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('the stack is empty');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('the stack is empty');
    return stack[stack.length - 1];
  };
  const popToMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) fail('no MARK to pop to');
    const items = stack.splice(mark as number);
    spend(items.length);
    return items;
  };
  const readLine = (): string => {
    // Module and class names are short; a long search would only serve a malformed file.
    let end = bytes.subarray(at, at + 256).indexOf(0x0a);
    if (end < 0) fail('the name is not terminated within 256 bytes');
    end += at;
    const line = bytes.subarray(at, end);
    at = end + 1;
    // Module and class names are ASCII identifiers; anything else is not a global PyTorch writes.
    if (!line.every((b) => b >= 0x20 && b < 0x7f)) fail('the name is not printable ASCII');
    return String.fromCharCode(...line);
  };
  const readString = (length: number): string => {
    const start = take(length);
    try {
      return utf8.decode(bytes.subarray(start, start + length));
    } catch {
      return fail('the string is not valid UTF-8');
    }
  };
  const setItem = (dict: unknown, key: unknown, value: unknown): void => {
    if (!(dict instanceof Map)) fail(`cannot set an item of ${describeValue(dict)}`);
    if (!isDictKey(key)) fail(`${describeValue(key)} cannot be a dict key here`);
    if (!(dict as PickleDict).has(key as PickleDictKey)) checkSize((dict as PickleDict).size + 1);
    (dict as PickleDict).set(key as PickleDictKey, value);
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail(`cannot append to ${describeValue(list)}`);
    checkSize((list as unknown[]).length + items.length);
    for (const item of items) (list as unknown[]).push(item);
  };
  const memoIndex = (index: number): unknown => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored`);
    return memo.get(index);
  };
  const memoPut = (index: number): void => {
    const value = top();
    if (!memo.has(index) && memo.size >= limits.maxMemo) exceed('memo entries', limits.maxMemo);
    memo.set(index, value);
  };
  const call = (callable: unknown, args: unknown): unknown => {
    if (!(args instanceof PickleTuple)) fail(`the arguments are ${describeValue(args)}, not a tuple`);
    if (typeof callable !== 'object' || callable === null || !('call' in callable) || !('qualifiedName' in callable)) {
      fail(`${describeValue(callable)} is not a callable global`);
    }
    return (callable as PickleGlobal).call((args as PickleTuple).items);
  };

  for (;;) {
    opcodeAt = at;
    if (at >= bytes.length) {
      opcodeName = 'end';
      fail('the pickle ends without STOP');
    }
    const opcode = bytes[at++];
    const name = OPCODE_NAMES[opcode];
    if (name === undefined) {
      const refused = REFUSED_OPCODE_NAMES[opcode];
      throw new Error(
        `refusing to load: pickle opcode ${refused ?? `0x${opcode.toString(16).padStart(2, '0')}`} at byte ${opcodeAt} ` +
          'is not one that tensors, containers and plain values need; save model.state_dict() (in a dict, if you like) with torch.save',
      );
    }
    opcodeName = name;
    // Checked before each opcode, which pushes at most one value: the stack never passes the bound by more.
    if (stack.length + marks.length >= limits.maxStack) exceed('stack depth', limits.maxStack);
    spend(1);
    switch (opcode) {
      case 0x80: { // PROTO
        const version = bytes[take(1)];
        if (version < 2 || version > 5) fail(`protocol ${version} is not one of 2 to 5`);
        break;
      }
      case 0x95: // FRAME: a length hint for buffered reading; the bytes that follow are ordinary opcodes.
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`the stack holds ${stack.length} values and ${marks.length} marks, not one value`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popToMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popToMark());
        break;
      case 0x64: { // DICT
        const items = popToMark();
        if (items.length % 2 !== 0) fail('an odd number of keys and values');
        const dict: PickleDict = new Map();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(readString(view.getUint32(take(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(readString(bytes[take(1)]));
        break;
      case 0x8d: { // BINUNICODE8
        const start = take(8);
        const length = view.getUint32(start, true) + view.getUint32(start + 4, true) * 2 ** 32;
        stack.push(readString(length));
        break;
      }
      case 0x4a: // BININT
        stack.push(view.getInt32(take(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[take(1)]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(take(2), true));
        break;
      case 0x8a: { // LONG1: a little-endian two's complement integer of n bytes
        const length = bytes[take(1)];
        const start = take(length);
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]);
        if (length > 0 && bytes[start + length - 1] & 0x80) value -= 1n << BigInt(8 * length);
        const asNumber = Number(value);
        stack.push(Number.isSafeInteger(asNumber) ? asNumber : value);
        break;
      }
      case 0x47: // BINFLOAT: big-endian float64
        stack.push(view.getFloat64(take(8), false));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x71: // BINPUT
        memoPut(bytes[take(1)]);
        break;
      case 0x72: // LONG_BINPUT
        memoPut(view.getUint32(take(4), true));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        stack.push(memoIndex(bytes[take(1)]));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoIndex(view.getUint32(take(4), true)));
        break;
      case 0x63: { // GLOBAL
        const module = readLine();
        const global = readLine();
        stack.push(hooks.findGlobal(module, global));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const global = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof global !== 'string') fail('the module and name are not strings');
        stack.push(hooks.findGlobal(module as string, global as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        hooks.build(top(), state);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popToMark();
        if (items.length % 2 !== 0) fail('an odd number of keys and values');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x61: { // APPEND
        const value = pop();
        append(top(), [value]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popToMark();
        append(top(), items);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        fail('unhandled opcode');
    }
  }
}
