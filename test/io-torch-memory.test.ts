/**
 * What a torch.save file can make the loader hold: the unpickler's limits (stack depth, memo entries,
 * container sizes, total work), the memory budget of storages and views, and `maxBytes`. The hostile
 * files are built here, deflated into small zips as an attacker would ship them (test/helpers/deflated.ts
 * writes the deflate stream without holding the inflated bytes). Peak memory is measured in a child
 * process, where jest's own heap does not blur it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseTorch } from '../lib/io/torch_load';
import { DEFAULT_UNPICKLER_LIMITS, unpickle, type UnpicklerHooks, type UnpicklerLimits } from '../lib/io/unpickler';
import { Tensor } from '../lib/tensor';
import { deflatedRepeat } from './helpers/deflated';
import { P, torchArchive } from './helpers/torch_archive';
import { buildZip, type ZipEntry } from './helpers/zip_writer';

jest.setTimeout(120_000);

const MiB = 2 ** 20;

/** A torch.save-shaped archive whose data.pkl is `prefix` + `unit` * `count`, deflated. */
function pickleBomb(prefix: string, unit: string, count: number): Buffer {
  const pickle = deflatedRepeat(Buffer.from(prefix, 'latin1'), Buffer.from(unit, 'latin1'), count);
  return buildZip([
    { name: 'archive/data.pkl', data: new Uint8Array(0), deflated: pickle },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

const noHooks: UnpicklerHooks = {
  findGlobal: () => {
    throw new Error('no globals here');
  },
  persistentLoad: () => {
    throw new Error('no persistent ids here');
  },
  build: () => {
    throw new Error('no BUILD here');
  },
};

function withLimits(limits: Partial<UnpicklerLimits>): UnpicklerLimits {
  return { ...DEFAULT_UNPICKLER_LIMITS, ...limits };
}

/** `{'k0': view, 'k1': view, ...}`: `count` keys, each a full view of one float32 storage of `numel` elements. */
function viewsPickle(count: number, numel: number, stride = [1], size = [numel]): Buffer {
  const items: [string, Buffer][] = [];
  for (let i = 0; i < count; i++) items.push([`k${i}`, P.tensor('0', 'FloatStorage', numel, 0, size, stride)]);
  return P.dict(items);
}

/** The archive of the issue: one real 4 MiB storage, an unread entry declaring 0xFFFFFFFE bytes, `count` full views. */
function manyViews(count: number): Buffer {
  const numel = MiB;
  const entries: ZipEntry[] = [
    { name: 'archive/data.pkl', data: viewsPickle(count, numel) },
    { name: 'archive/data/0', data: new Uint8Array(4 * numel) },
    { name: 'archive/data/1', data: new Uint8Array(16), method: 8, declaredSize: 0xfffffffe },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ];
  return buildZip(entries);
}

/** A storage of `bytes` zeros, deflated, viewed `views` times in full. */
function zeroStorage(bytes: number, views: number): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: viewsPickle(views, bytes / 4) },
    { name: 'archive/data/0', data: new Uint8Array(0), deflated: deflatedRepeat(new Uint8Array(0), new Uint8Array(1), bytes) },
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

describe('the unpickler stops a pickle that would exhaust memory, naming the limit', () => {
  test('a list appended to without end: the container size; opcodes without end: the total work', () => {
    const appends = Buffer.concat([Buffer.from('\x80\x02]', 'latin1'), Buffer.from('Na'.repeat(1000), 'latin1'), Buffer.from('.')]);
    expect(() => unpickle(appends, noHooks, withLimits({ maxContainer: 500 }))).toThrow('the pickle exceeds the limit on container size (500) at byte 1004 (APPEND)');
    expect(() => unpickle(appends, noHooks, withLimits({ maxWork: 1000 }))).toThrow('the pickle exceeds the limit on total work (1000)');
    expect(unpickle(appends, noHooks)).toHaveLength(1000);
    // The same list memoized and appended to itself: each APPEND adds one item, and the work counts it.
    const selfAppends = Buffer.concat([Buffer.from('\x80\x02]q\x00', 'latin1'), Buffer.from('h\x00a'.repeat(2000), 'latin1'), Buffer.from('.')]);
    expect(() => unpickle(selfAppends, noHooks, withLimits({ maxContainer: 1999 }))).toThrow('limit on container size (1999)');
    // Items moved by APPENDS and SETITEMS count as work too.
    const batch = Buffer.concat([Buffer.from('\x80\x02](', 'latin1'), Buffer.from('N'.repeat(3000), 'latin1'), Buffer.from('e.')]);
    expect(() => unpickle(batch, noHooks, withLimits({ maxWork: 4000 }))).toThrow('limit on total work (4000)');
  });

  test("opcodes without end in a small deflated file: the total work, which scales with the file's size", () => {
    // None set as a dict's None key again and again: the stack and the dict stay small, the work does not.
    const file = pickleBomb('\x80\x02}', 'NNs', 12_000_000);
    expect(() => parseTorch(file)).toThrow(/the pickle exceeds the limit on total work \(\d+\)/);
  });
});

describe('storages and views take memory once, and within maxBytes', () => {
  test('1,500 and 3,000 full views of one 4 MiB storage beside an unread entry declaring 0xFFFFFFFE bytes share it', () => {
    for (const count of [1500, 3000]) {
      const sd = parseTorch(manyViews(count)) as Record<string, Tensor>;
      const tensors = Object.values(sd);
      expect(tensors).toHaveLength(count);
      expect(tensors.every((t) => t.data.buffer === tensors[0].data.buffer && t.data.length === MiB)).toBe(true);
    }
  });

  test('maxBytes refuses a load before its memory is taken, and names the limit', () => {
    const file = zeroStorage(64 * MiB, 7);
    expect(() => parseTorch(file, { maxBytes: 32 * MiB })).toThrow(
      "refusing to load: storage '0' needs 67108864 bytes, which would take this load to 67108864 bytes, beyond maxBytes (33554432); pass a larger maxBytes",
    );
    const sd = parseTorch(file, { maxBytes: 64 * MiB }) as Record<string, Tensor>;
    expect(Object.values(sd).every((t) => t.data.buffer === sd.k0.data.buffer)).toBe(true);
    // A stored (uncompressed) storage is decoded into new memory: that counts too.
    const stored = torchArchive(viewsPickle(2, MiB), { '0': new Uint8Array(4 * MiB) });
    expect(() => parseTorch(stored, { maxBytes: 4 * MiB - 1 })).toThrow("storage '0' needs 4194304 bytes");
    expect(() => parseTorch(stored, { maxBytes: -1 })).toThrow('maxBytes should be a non-negative integer number of bytes, got -1');
  });

  test('a deflated pickle counts against maxBytes as it inflates', () => {
    const file = pickleBomb('\x80\x02', 'N', 10 * MiB);
    expect(() => parseTorch(file, { maxBytes: MiB })).toThrow('the pickle (data.pkl) needs 10485762 bytes');
  });
});

describe('peak memory, measured in a child process', () => {
  const dist = path.join(__dirname, '..', 'dist', 'io', 'torch_load');

  /** Loads each file in a fresh process; its outcome and how far the peak RSS grew, in MiB. */
  function measure(file: Buffer, maxBytes?: number): { outcome: string; growthMiB: number } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchrnn-memory-'));
    try {
      const target = path.join(dir, 'file.pt');
      fs.writeFileSync(target, file);
      const script = `
        const { parseTorch } = require(${JSON.stringify(dist)});
        const bytes = require('fs').readFileSync(${JSON.stringify(target)});
        try { parseTorch(Buffer.from('x')); } catch {}
        const before = process.resourceUsage().maxRSS;
        let outcome;
        try {
          const sd = parseTorch(bytes${maxBytes === undefined ? '' : `, { maxBytes: ${maxBytes} }`});
          outcome = 'loaded ' + Object.keys(sd).length;
        } catch (e) { outcome = e.message; }
        process.stdout.write(JSON.stringify({ outcome, growthMiB: (process.resourceUsage().maxRSS - before) / 1024 }));
      `;
      return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 100_000 }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('a 1 GiB zero storage viewed 7 times (a 1 MB file, 9.3 GB before): 1 GiB and a little, or refused at no cost', () => {
    const file = zeroStorage(2 ** 30, 7);
    expect(file.length).toBeLessThan(1.1 * MiB);
    const refused = measure(file, 256 * MiB);
    expect(refused.outcome).toMatch(/^refusing to load: storage '0' needs 1073741824 bytes/);
    expect(refused.growthMiB).toBeLessThan(32);
    // The bound: storages once, inflated in place (1 GiB here), plus the pickle and bookkeeping.
    const loaded = measure(file);
    expect(loaded.outcome).toBe('loaded 7');
    expect(loaded.growthMiB).toBeLessThan(1024 + 64);
  });

  test('3,000 views of a 4 MiB storage (6.9 GB and an allocation failure before): a few MiB', () => {
    const { outcome, growthMiB } = measure(manyViews(3000));
    expect(outcome).toBe('loaded 3000');
    expect(growthMiB).toBeLessThan(40);
  });

  // The issue's three reproductions: the process died (exit 133, SIGABRT after 4 GB, a RangeError after 800 MB).
  test.each([
    ["b'\\x80\\x02' + b'N' * 120_000_000 (117 KB)", '\x80\x02', 'N', 120_000_000, 'stack depth (1000000) at byte 1000002 (NONE)'],
    ["b']' * 200_000_000 (195 KB)", '\x80\x02', ']', 200_000_000, 'stack depth (1000000) at byte 1000002 (EMPTY_LIST)'],
    ["b'\\x80\\x02N' + b'\\x94' * 40_000_000", '\x80\x02N', '\x94', 40_000_000, 'memo entries (1048576) at byte 1048579 (MEMOIZE)'],
  ])('%s is refused by its limit, within the memory of its inflated pickle', (_, prefix, unit, count, limit) => {
    const file = pickleBomb(prefix, unit, count);
    expect(file.length).toBeLessThan(count / 500);
    const { outcome, growthMiB } = measure(file);
    expect(outcome).toBe(`refusing to load: the pickle exceeds the limit on ${limit}; no torch.save file needs as much: the file is damaged or made to exhaust memory`);
    expect(growthMiB).toBeLessThan(count / MiB + 160);
  });
});
