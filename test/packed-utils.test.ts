/**
 * The packing utilities and modules on packed input, mirroring PyTorch's own tests
 * (test/nn/test_packed_sequence.py: test_pack_sequence, test_pack_padded_sequence, test_pad_sequence,
 * test_unpad_sequence, test_unpack_sequence, test_total_length, test_wrong_order; test_nn.py:
 * test_variable_sequence). Expected values are built the way those tests build them.
 */
import {
  LSTM,
  GRU,
  PackedSequence,
  Tensor,
  packPaddedSequence,
  packSequence,
  padPackedSequence,
  padSequence,
  tensor,
  unpackSequence,
  unpadSequence,
} from '../lib';
import { mismatches } from './helpers/close';
import { randomTensor } from './helpers/random';

function list(t: Tensor): unknown {
  return t.toArray();
}

/** Shape and every element equal; a short description of the first difference otherwise (fast on large tensors). */
function difference(actual: Tensor, expected: Tensor): string | null {
  if (actual.shape.join() !== expected.shape.join()) return `shape [${actual.shape}] vs [${expected.shape}]`;
  for (let i = 0; i < expected.data.length; i++) {
    if (actual.data[i] !== expected.data[i]) return `element ${i}: ${actual.data[i]} vs ${expected.data[i]}`;
  }
  return null;
}

function ints(a: Int32Array | null): number[] | null {
  return a === null ? null : Array.from(a);
}

/** A deterministic Fisher–Yates shuffle (PyTorch's tests use random.shuffle; any order will do). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** PyTorch's `torch.cat(tensors, dim)` for the few shapes these tests need. */
function cat(tensors: Tensor[], dim: number): Tensor {
  const shape = [...tensors[0].shape];
  shape[dim] = tensors.reduce((n, t) => n + t.shape[dim], 0);
  const out = Tensor.zeros(shape, tensors[0].dtype);
  const outer = shape.slice(0, dim).reduce((n, s) => n * s, 1);
  let offset = 0;
  const rowLength = out.numel() / outer;
  for (const t of tensors) {
    const block = t.numel() / outer;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * block, (o + 1) * block), o * rowLength + offset);
    offset += block;
  }
  return out;
}

/** `(a, b, *) → (b, a, *)`. */
function transpose01(t: Tensor): Tensor {
  const [a, b, ...rest] = t.shape;
  const inner = rest.reduce((n, s) => n * s, 1);
  const out = Tensor.zeros([b, a, ...rest], t.dtype);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out.data.set(t.data.subarray((i * b + j) * inner, (i * b + j + 1) * inner), (j * a + i) * inner);
  return out;
}

/** The test's `pad(tensor, length)`: zeros appended along dim 0. */
function padTo(t: Tensor, length: number): Tensor {
  return cat([t, Tensor.zeros([length - t.shape[0], ...t.shape.slice(1)], t.dtype)], 0);
}

/** `torch.stack(tensors)` along a new first dim. */
function stack(tensors: Tensor[]): Tensor {
  return new Tensor(Float32Array.from(tensors.flatMap((t) => Array.from(t.data))), [tensors.length, ...tensors[0].shape]);
}

describe('test_pack_sequence', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([4, 5]);
  const c = tensor([6]);

  test('single dimensional, enforceSorted false: sorted and unsorted inputs pack to the same data', () => {
    const packed = packSequence([a, b, c], { enforceSorted: false });
    expect(ints(packed.batchSizes)).toEqual([3, 2, 1]);
    expect(list(packed.data)).toEqual([1, 4, 6, 2, 5, 3]);
    expect(ints(packed.sortedIndices)).toEqual([0, 1, 2]);
    expect(ints(packed.unsortedIndices)).toEqual([0, 1, 2]);

    const unsorted = packSequence([b, c, a], { enforceSorted: false });
    expect(ints(unsorted.batchSizes)).toEqual([3, 2, 1]);
    expect(list(unsorted.data)).toEqual([1, 4, 6, 2, 5, 3]);
    expect(ints(unsorted.sortedIndices)).toEqual([2, 0, 1]);
    expect(ints(unsorted.unsortedIndices)).toEqual([1, 2, 0]);
  });

  test('single dimensional, enforceSorted true: no indices; unsorted lengths are an error', () => {
    const packed = packSequence([a, b, c], { enforceSorted: true });
    expect(ints(packed.batchSizes)).toEqual([3, 2, 1]);
    expect(list(packed.data)).toEqual([1, 4, 6, 2, 5, 3]);
    expect(packed.sortedIndices).toBeNull();
    expect(packed.unsortedIndices).toBeNull();
    expect(() => packSequence([b, c, a], { enforceSorted: true })).toThrow(
      new Error(
        '`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass ' +
          '`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if ' +
          'you do not need ONNX exportability.',
      ),
    );
  });

  test('more dimensions: compatible with padSequence, padPackedSequence and packPaddedSequence', () => {
    const compatible = (sequences: Tensor[], lengths: number[], batchFirst: boolean, enforceSorted = false): void => {
      const padded = padSequence(sequences, { batchFirst });
      const packed = packSequence(sequences, { enforceSorted });
      const [unpacked] = padPackedSequence(packed, { batchFirst });
      expect(difference(unpacked, padded)).toBeNull();
      const packPadded = packPaddedSequence(padded, lengths, { batchFirst, enforceSorted });
      expect(difference(packPadded.data, packed.data)).toBeNull();
      expect([packPadded.batchSizes, packPadded.sortedIndices, packPadded.unsortedIndices].map(ints)).toEqual(
        [packed.batchSizes, packed.sortedIndices, packed.unsortedIndices].map(ints),
      );
    };
    for (const numDim of [0, 1, 2, 3]) {
      const trailing = Array<number>(numDim).fill(4);
      const sequences: Tensor[] = [];
      const lengths: number[] = [];
      for (let i = 9; i > 0; i--) {
        lengths.push(i * i);
        sequences.push(randomTensor([i * i, 5, ...trailing], 100 * numDim + i));
      }
      const unsorted = shuffled(sequences, numDim + 1);
      const unsortedLengths = unsorted.map((t) => t.size(0));
      for (const batchFirst of [true, false]) {
        for (const enforceSorted of [true, false]) compatible(sequences, lengths, batchFirst, enforceSorted);
        compatible(unsorted, unsortedLengths, batchFirst);
      }
    }
  });

  test('an empty list is padSequence\'s error', () => {
    expect(() => packSequence([])).toThrow(new Error('received an empty list of sequences'));
  });
});

describe('test_pack_padded_sequence', () => {
  /** The test's generate_test_case: sequence i (from 1) holds i*100 + 1, 2, ..., 5*l as an (l, 5) block. */
  function generateTestCase(sortedLengths: number[], shuffleSeed: number | null) {
    const maxLength = sortedLengths[0];
    const batchSizes = Array.from({ length: maxLength }, (_, i) => sortedLengths.filter((l) => l >= i + 1).length);
    const blocks = sortedLengths.map((l, index) => {
      const i = index + 1;
      const block = new Tensor(Float32Array.from({ length: 5 * l }, (_, k) => i * 100 + k + 1), [l, 1, 5]);
      return padTo(block, maxLength);
    });
    let padded = cat(blocks, 1);
    const expectedData: number[][] = [];
    batchSizes.forEach((batchSize, n) => {
      for (let i = 0; i < batchSize; i++) expectedData.push([1, 2, 3, 4, 5].map((v) => v + (i + 1) * 100 + 5 * n));
    });
    let lengths = sortedLengths;
    let unsortedIndices: number[] | null = null;
    if (shuffleSeed !== null) {
      // Shuffle the padded batch; the permutation is then exactly the unsorted indices packing must find.
      unsortedIndices = shuffled(sortedLengths.map((_, i) => i), shuffleSeed);
      const columns = blocks.map((_, j) => blocks[unsortedIndices![j]]);
      padded = cat(columns, 1);
      lengths = unsortedIndices.map((i) => sortedLengths[i]);
    }
    return { padded, lengths, expectedData, batchSizes, unsortedIndices };
  }

  const testCases: Array<[number[], number | null]> = [
    [[10, 8, 4, 2, 2, 2, 1], null],
    [[11, 10, 8, 6, 4, 3, 1], null],
    [[11, 10, 8, 6, 4, 3, 1], 7],
  ];
  for (const [sortedLengths, shuffleSeed] of testCases) {
    for (const batchFirst of [true, false]) {
      test(`lengths [${sortedLengths}], ${shuffleSeed === null ? 'sorted' : 'shuffled'}, batchFirst ${batchFirst}`, () => {
        const { padded, lengths, expectedData, batchSizes, unsortedIndices } = generateTestCase(sortedLengths, shuffleSeed);
        const src = batchFirst ? transpose01(padded) : padded;
        const packed = packPaddedSequence(src, lengths, { batchFirst, enforceSorted: shuffleSeed === null });
        expect(list(packed.data)).toEqual(expectedData);
        expect(ints(packed.batchSizes)).toEqual(batchSizes);
        expect(ints(packed.unsortedIndices)).toEqual(unsortedIndices);
        // The inverse.
        const [unpacked, unpackedLengths] = padPackedSequence(packed, { batchFirst });
        expect(list(unpacked)).toEqual(list(src));
        expect(Array.from(unpackedLengths)).toEqual(lengths);
      });
    }
  }

  test("PyTorch's error messages", () => {
    expect(() => packPaddedSequence(randomTensor([3, 3], 1), [1, 3, 2])).toThrow('You can pass `enforce_sorted=False`');
    expect(() => packPaddedSequence(Tensor.zeros([0, 0]), [])).toThrow(new Error('Cannot pack empty tensors.'));
    // Emptiness is checked before the number of lengths.
    expect(() => packPaddedSequence(Tensor.zeros([0, 1, 10]), [11, 14, 14, 2], { batchFirst: true })).toThrow(
      new Error('Cannot pack empty tensors.'),
    );
    expect(() => packPaddedSequence(randomTensor([4, 3, 2], 2), [3, 2])).toThrow(
      new Error('Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)'),
    );
    expect(() => packPaddedSequence(randomTensor([4, 3, 2], 2), [3, 2, 0])).toThrow(
      new Error("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"),
    );
    expect(() => packPaddedSequence(randomTensor([4, 3, 2], 2), [0, 3, 2], { enforceSorted: false })).toThrow(
      "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0",
    );
    expect(() => packPaddedSequence(randomTensor([4], 2), [3])).toThrow(
      new RangeError('Dimension out of range (expected to be in range of [-1, 0], but got 1)'),
    );
  });

  test('what PyTorch would read past the input or truncate is refused', () => {
    expect(() => packPaddedSequence(randomTensor([4, 3, 2], 2), [5, 2, 1])).toThrow(
      'the longest sequence has length 5, but the input has only 4 time steps',
    );
    expect(() => packPaddedSequence(randomTensor([4, 3, 2], 2), [3.5, 2, 1])).toThrow('lengths must hold integers, but lengths[0] is 3.5');
  });

  test('lengths may be an Int32Array; ties keep their order when sorting', () => {
    const x = randomTensor([4, 6, 1], 3);
    const packed = packPaddedSequence(x, Int32Array.from([2, 3, 2, 3, 2, 3]), { enforceSorted: false });
    expect(ints(packed.sortedIndices)).toEqual([1, 3, 5, 0, 2, 4]);
  });
});

describe('test_pad_sequence', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([4, 5]);
  const c = tensor([6]);

  test('single dimensional', () => {
    const expected = [[4, 5, 0], [1, 2, 3], [6, 0, 0]];
    expect(list(padSequence([b, a, c], { batchFirst: true }))).toEqual(expected);
    expect(list(padSequence([b, a, c]))).toEqual(list(transpose01(tensor(expected))));
    expect(list(padSequence([b, a, c], { batchFirst: true, paddingValue: 1 }))).toEqual([[4, 5, 1], [1, 2, 3], [6, 1, 1]]);
    expect(list(padSequence([a, b, c], { batchFirst: true }))).toEqual([[1, 2, 3], [4, 5, 0], [6, 0, 0]]);
  });

  test("paddingSide 'left' puts the padding first", () => {
    expect(list(padSequence([b, a, c], { batchFirst: true, paddingSide: 'left' }))).toEqual([[0, 4, 5], [1, 2, 3], [0, 0, 6]]);
  });

  test('more dimensions', () => {
    for (const numDim of [0, 1, 2, 3]) {
      const trailing = Array<number>(numDim).fill(4);
      const sequences = shuffled(
        Array.from({ length: 9 }, (_, i) => randomTensor([(i + 1) * (i + 1), 5, ...trailing], 10 * numDim + i)),
        numDim + 11,
      );
      const expected = stack(sequences.map((s) => padTo(s, 81)));
      expect(difference(padSequence(sequences, { batchFirst: true }), expected)).toBeNull();
      expect(difference(padSequence(sequences), transpose01(expected))).toBeNull();
    }
  });

  test("PyTorch's errors", () => {
    expect(() => padSequence([])).toThrow(new Error('received an empty list of sequences'));
    expect(() => padSequence(5 as never)).toThrow('Expected iterable for input sequences, but got arg of type');
    expect(() => padSequence([a], { paddingSide: 'top' as never })).toThrow(
      new Error('Expected padding_side to be one of left or right, but got top.'),
    );
    expect(() => padSequence([randomTensor([2, 3], 1), randomTensor([3, 4], 2)])).toThrow(
      'pad_sequence: every sequence must have the trailing shape of sequences[0], [3], but sequences[1] has [4]',
    );
  });
});

describe('test_unpad_sequence and test_unpack_sequence', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([4, 5]);
  const c = tensor([6]);

  test('single dimensional round trips', () => {
    for (const batchFirst of [true, false]) {
      const padded = padSequence([a, b, c], { batchFirst });
      expect(unpadSequence(padded, [3, 2, 1], { batchFirst }).map(list)).toEqual([[1, 2, 3], [4, 5], [6]]);
    }
    expect(unpackSequence(packSequence([a, b, c], { enforceSorted: false })).map(list)).toEqual([[1, 2, 3], [4, 5], [6]]);
    expect(unpackSequence(packSequence([b, c, a], { enforceSorted: false })).map(list)).toEqual([[4, 5], [6], [1, 2, 3]]);
  });

  test('more dimensions', () => {
    for (const numDim of [0, 1, 2, 3]) {
      const trailing = Array<number>(numDim).fill(4);
      const sequences = shuffled(
        Array.from({ length: 9 }, (_, i) => randomTensor([(i + 1) * (i + 1), 5, ...trailing], 20 * numDim + i)),
        numDim + 21,
      );
      const lengths = sequences.map((s) => s.size(0));
      for (const batchFirst of [true, false]) {
        const unpadded = unpadSequence(padSequence(sequences, { batchFirst }), lengths, { batchFirst });
        expect(unpadded.map((u, i) => difference(u, sequences[i]))).toEqual(sequences.map(() => null));
      }
      const unpacked = unpackSequence(packSequence(sequences, { enforceSorted: false }));
      expect(unpacked.map((u, i) => difference(u, sequences[i]))).toEqual(sequences.map(() => null));
    }
  });
});

describe('test_total_length', () => {
  // The test's _padded_sequence: 5 ordered 1-D sequences of up to 6 values, padded to (T, 5).
  const ordered = [6, 5, 5, 3, 1].map((l, i) => randomTensor([l], 50 + i, 128));
  const lengths = ordered.map((s) => s.size(0));
  const maxLength = 6;
  const packed = packPaddedSequence(padSequence(ordered), lengths);

  test('below the longest sequence is an error', () => {
    for (const totalLength of [-1, 0, maxLength - 1]) {
      for (const batchFirst of [true, false]) {
        expect(() => padPackedSequence(packed, { batchFirst, totalLength })).toThrow(
          new Error(
            'Expected total_length to be at least the length of the longest sequence in input, but got ' +
              `total_length=${totalLength} and max sequence length being ${maxLength}`,
          ),
        );
      }
    }
  });

  test('at or above it, the output is padded with zeros to totalLength', () => {
    for (const batchFirst of [true, false]) {
      const [noExtraPad] = padPackedSequence(packed, { batchFirst });
      for (const delta of [0, 1, 8]) {
        const totalLength = maxLength + delta;
        const [unpacked, lengthsOut] = padPackedSequence(packed, { batchFirst, totalLength });
        expect(Array.from(lengthsOut)).toEqual(lengths);
        expect(unpacked.size(batchFirst ? 1 : 0)).toBe(totalLength);
        const reference =
          delta === 0
            ? noExtraPad
            : batchFirst
              ? cat([noExtraPad, Tensor.zeros([5, delta])], 1)
              : cat([noExtraPad, Tensor.zeros([delta, 5])], 0);
        expect(list(unpacked)).toEqual(list(reference));
      }
    }
  });
});

describe('test_wrong_order', () => {
  test('a padded batch with the shorter sequence first cannot be packed sorted', () => {
    const b_a = padSequence([Tensor.ones([22, 300]), Tensor.ones([25, 300])]);
    expect(() => packPaddedSequence(b_a, [22, 25], { enforceSorted: true })).toThrow('must be sorted in decreasing order');
  });
});

describe('PackedSequence', () => {
  test('unsortedIndices defaults to the inverse of sortedIndices', () => {
    const seq = new PackedSequence(randomTensor([6, 2], 1), [3, 2, 1], [2, 0, 1]);
    expect(ints(seq.unsortedIndices)).toEqual([1, 2, 0]);
    expect(seq.batchSizes).toBeInstanceOf(Int32Array);
  });

  test('what PyTorch assumes without checking is checked, so that no module reads garbage', () => {
    const data = randomTensor([6, 2], 1);
    expect(() => new PackedSequence(data, [3, 2, 2])).toThrow('PackedSequence data has 6 rows but batchSizes add up to 7');
    expect(() => new PackedSequence(data, [2, 3, 1])).toThrow('batchSizes must be positive and non-increasing, got [2, 3, 1]');
    expect(() => new PackedSequence(data, [3, 2, 1], [0, 0, 1])).toThrow('sortedIndices must be a permutation of 0..2, got [0, 0, 1]');
    expect(() => new PackedSequence(data, [3, 2, 1], [0, 1, 2], [1, 0, 2])).toThrow(
      'unsortedIndices must be the inverse permutation of sortedIndices',
    );
    expect(() => new PackedSequence(data, [3, 2.5, 0.5])).toThrow('batchSizes must hold integers, but batchSizes[1] is 2.5');
  });
});

describe('modules on packed input', () => {
  /** The test's pad(var, length): zeros appended along the time dimension. */
  const [T, B, In, H] = [10, 7, 3, 4];

  /** Column b of a (T, B, F) tensor, first `l` steps, as (l, 1, F). */
  function column(x: Tensor, b: number, l: number): Tensor {
    const f = x.shape[2];
    const out = Tensor.zeros([l, 1, f], x.dtype);
    for (let t = 0; t < l; t++) out.data.set(x.data.subarray((t * B + b) * f, (t * B + b + 1) * f), t * f);
    return out;
  }

  /** Slice b of a (L, B, H) state as (L, 1, H). */
  function stateOf(h: Tensor, b: number): Tensor {
    const [layers, , width] = h.shape;
    const out = Tensor.zeros([layers, 1, width], h.dtype);
    for (let l = 0; l < layers; l++) out.data.set(h.data.subarray((l * B + b) * width, (l * B + b + 1) * width), l * width);
    return out;
  }

  function runAlone(lstm: LSTM, x: Tensor, lengths: number[], hx?: [Tensor, Tensor]) {
    const outs: Tensor[] = [];
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    lengths.forEach((l, b) => {
      const [out, [h, c]] = lstm.forward(column(x, b, l), hx && [stateOf(hx[0], b), stateOf(hx[1], b)]);
      outs.push(padTo(out, T));
      hs.push(h);
      cs.push(c);
    });
    return { out: cat(outs, 1), h: cat(hs, 1), c: cat(cs, 1) };
  }

  test('test_variable_sequence: a packed 2-layer bidirectional LSTM equals each sequence run alone', () => {
    const lengths = [10, 10, 6, 2, 2, 1, 1];
    const x = randomTensor([T, B, In], 60);
    const lstm = new LSTM(In, H, { bidirectional: true, numLayers: 2 });
    const alone = runAlone(lstm, x, lengths);

    const [packedOut, [h, c]] = lstm.forward(packPaddedSequence(x, lengths));
    const [unpacked, unpackedLength] = padPackedSequence(packedOut);
    expect(mismatches([[h, alone.h, 'h_n'], [c, alone.c, 'c_n'], [unpacked, alone.out, 'output']])).toEqual([]);
    expect(Array.from(unpackedLength)).toEqual(lengths);
  });

  test('unsorted lengths with a given hx: hx and h_n are in the caller\'s order', () => {
    const lengths = [2, 10, 1, 6, 10, 1, 2];
    const x = randomTensor([T, B, In], 61);
    const hx: [Tensor, Tensor] = [randomTensor([4, B, H], 62), randomTensor([4, B, H], 63)];
    const lstm = new LSTM(In, H, { bidirectional: true, numLayers: 2 });
    const alone = runAlone(lstm, x, lengths, hx);

    const packed = packPaddedSequence(x, lengths, { enforceSorted: false });
    const [packedOut, [h, c]] = lstm.forward(packed, hx);
    expect([packedOut.batchSizes, packedOut.sortedIndices, packedOut.unsortedIndices].map(ints)).toEqual(
      [packed.batchSizes, packed.sortedIndices, packed.unsortedIndices].map(ints),
    );
    const [unpacked] = padPackedSequence(packedOut);
    expect(mismatches([[h, alone.h, 'h_n'], [c, alone.c, 'c_n'], [unpacked, alone.out, 'output']])).toEqual([]);
  });

  test('forwardAsync on a PackedSequence gives forward\'s result', async () => {
    const gru = new GRU(In, H, 2);
    const packed = packPaddedSequence(randomTensor([T, B, In], 64), [9, 1, 4, 10, 2, 2, 7], { enforceSorted: false });
    const [out, h] = gru.forward(packed);
    const [outAsync, hAsync] = await gru.forwardAsync(packed);
    expect(Array.from(outAsync.data.data)).toEqual(Array.from(out.data.data));
    expect(Array.from(hAsync.data)).toEqual(Array.from(h.data));
  });

  test('the hidden size check uses the largest batch, batchSizes[0], and the data is checked as PyTorch checks input', () => {
    const lstm = new LSTM(In, H, 2);
    const packed = packPaddedSequence(randomTensor([T, B, In], 65), [10, 10, 6, 2, 2, 1, 1]);
    const wrong: [Tensor, Tensor] = [Tensor.zeros([2, 6, H]), Tensor.zeros([2, 7, H])];
    expect(() => lstm.forward(packed, wrong)).toThrow(new Error('Expected hidden[0] size (2, 7, 4), got [2, 6, 4]'));
    const hx2d: [Tensor, Tensor] = [Tensor.zeros([7, H]), Tensor.zeros([7, H])];
    expect(() => lstm.forward(packed, hx2d)).toThrow('Expected hidden[0] size (2, 7, 4), got [7, 4]');
    const gru = new GRU(In + 1, H);
    expect(() => gru.forward(packed)).toThrow(new Error('input.size(-1) must be equal to input_size. Expected 4, got 3'));
    const gru64 = new GRU(In, H, { dtype: 'float64' });
    expect(() => gru64.forward(packed)).toThrow(new TypeError('input must have the type float64, got type float32'));
    const flat = packPaddedSequence(randomTensor([T, B], 66), [10, 10, 6, 2, 2, 1, 1]);
    expect(() => gru.forward(flat)).toThrow(new Error('input must have 2 dimensions, got 1'));
  });
});

describe('packPaddedSequence with a lengths tensor', () => {
  // Batch sizes and the message are PyTorch 1.13's for x = torch.zeros(3, 2, 4) and these lengths.
  test.each([
    ['int64', [3, 2]],
    ['int32', [3, 2]],
    ['float32', [3, 2]],
  ] as const)('a 1-D %s tensor of lengths packs as the same list does', (dtype, values) => {
    const packed = packPaddedSequence(Tensor.zeros([3, 2, 4]), tensor([...values], dtype));
    expect(Array.from(packed.batchSizes)).toEqual([2, 2, 1]);
  });

  test("a lengths tensor that is not 1-D is PyTorch's error", () => {
    expect(() => packPaddedSequence(Tensor.zeros([3, 2, 4]), tensor([[3, 2]], 'int64'))).toThrow(
      "'lengths' argument should be a 1D CPU int64 tensor, but got 2D cpu Long tensor",
    );
    expect(() => packPaddedSequence(Tensor.zeros([3, 2, 4]), tensor(3, 'int64'))).toThrow(
      "'lengths' argument should be a 1D CPU int64 tensor, but got 0D cpu Long tensor",
    );
  });

  test('fractional lengths in a float tensor are refused, not truncated', () => {
    expect(() => packPaddedSequence(Tensor.zeros([3, 2, 4]), tensor([2.5, 2]))).toThrow('lengths must hold integers, but lengths[0] is 2.5');
  });
});

describe('integer sequences', () => {
  // Expected values are PyTorch 1.13's for a = tensor([1, 2, 3]), b = tensor([4]) (int64).
  const a = tensor([1, 2, 3], 'int64');
  const b = tensor([4], 'int64');

  test('padSequence pads int64 sequences with the padding value, converted as PyTorch fills', () => {
    expect(padSequence([a, b], { batchFirst: true, paddingValue: -1 }).toArray()).toEqual([[1, 2, 3], [4, -1, -1]]);
    expect(padSequence([a, b], { batchFirst: true, paddingValue: 2.7 }).toArray()).toEqual([[1, 2, 3], [4, 2, 2]]);
  });

  test('packSequence and padPackedSequence keep int64', () => {
    const packed = packSequence([a, b]);
    expect(packed.data.toArray()).toEqual([1, 4, 2, 3]);
    expect(Array.from(packed.batchSizes)).toEqual([2, 1, 1]);
    const [padded] = padPackedSequence(packed, { batchFirst: true, paddingValue: 7 });
    expect(padded.dtype).toBe('int64');
    expect(padded.toArray()).toEqual([[1, 2, 3], [4, 7, 7]]);
  });
});
