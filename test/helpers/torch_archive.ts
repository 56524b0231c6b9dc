/** Pickles written opcode by opcode, and torch.save-shaped archives around them, for the loader's tests. */
import { buildZip } from './zip_writer';

/** The bytes of a pickle, written opcode by opcode. */
export const P = {
  proto: Buffer.from([0x80, 0x02]),
  str(s: string): Buffer {
    const bytes = Buffer.from(s);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return Buffer.concat([Buffer.from('X'), length, bytes]);
  },
  int(n: number): Buffer {
    const b = Buffer.alloc(5);
    b.write('J');
    b.writeInt32LE(n, 1);
    return b;
  },
  global(module: string, name: string): Buffer {
    return Buffer.from(`c${module}\n${name}\n`);
  },
  tuple(...items: Buffer[]): Buffer {
    return Buffer.concat([Buffer.from('('), ...items, Buffer.from('t')]);
  },
  /** `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` on storage `key`. */
  tensor(key: string, storage: string, numel: number, offset: number, size: number[], stride: number[]): Buffer {
    const pid = Buffer.concat([P.tuple(P.str('storage'), P.global('torch', storage), P.str(key), P.str('cpu'), P.int(numel)), Buffer.from('Q')]);
    return Buffer.concat([
      P.global('torch._utils', '_rebuild_tensor_v2'),
      P.tuple(pid, P.int(offset), P.tuple(...size.map(P.int)), P.tuple(...stride.map(P.int)), Buffer.from([0x89]), P.global('collections', 'OrderedDict'), Buffer.from(')R')),
      Buffer.from('R'),
    ]);
  },
  /** `{key: value, ...}` then STOP. */
  dict(items: [string, Buffer][]): Buffer {
    return Buffer.concat([P.proto, Buffer.from('}('), ...items.flatMap(([k, v]) => [P.str(k), v]), Buffer.from('u.')]);
  },
};

/** A torch.save-shaped archive holding `pickle` and the given storages. */
export function torchArchive(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: pickle },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

