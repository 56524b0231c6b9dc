/**
 * The library's global random number generator, PyTorch's `torch.manual_seed` counterpart.
 *
 * Parameter initialisation and dropout masks draw from it, so `manualSeed(n)` makes both reproducible.
 * The generator is xoshiro128** (small, fast, well tested), its state filled from the seed by splitmix64.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'crypto';
import { describe, isInteger } from './is';

const MASK64 = (1n << 64n) - 1n;

// A module-level binding: global lookups are slow inside vm contexts (test runners), this is not.
const imul = Math.imul;

/** xoshiro128** state: four uint32 words, never all zero. Plain numbers: faster than a typed array. */
let s0 = 0;
let s1 = 0;
let s2 = 0;
let s3 = 0;

function splitmix64(seed: bigint): () => bigint {
  let x = seed;
  return () => {
    x = (x + 0x9e3779b97f4a7c15n) & MASK64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
}

function seedState(seed: bigint): void {
  const next = splitmix64(BigInt.asUintN(64, seed));
  const a = next();
  const b = next();
  s0 = Number(a & 0xffffffffn);
  s1 = Number(a >> 32n);
  s2 = Number(b & 0xffffffffn);
  s3 = Number(b >> 32n);
  // xoshiro never leaves the all-zero state; splitmix64 practically never yields it, but guard anyway.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The next uint32 from the global generator, e.g. to seed the native dropout masks. */
export function randomUint32(): number {
  const result = imul(rotl(imul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  return result;
}

/** A double uniform in [0, 1) with 53 random bits. */
export function random(): number {
  const high = randomUint32() >>> 5; // 27 bits
  const low = randomUint32() >>> 6; // 26 bits
  return (high * 67108864 + low) / 9007199254740992;
}

/**
 * Fills `target` with values uniform in [low, high), drawn in element order.
 * A draw that rounds to `high` in float32 is drawn again, so the interval stays half-open in either dtype.
 */
export function fillUniform(target: Float32Array | Float64Array, low: number, high: number): void {
  for (let i = 0; i < target.length; i++) {
    do {
      target[i] = low + (high - low) * random();
    } while (target[i] >= high && high > low);
  }
}

/**
 * Fills `target` with draws from the normal distribution N(mean, std²), in element order (Box–Muller:
 * each pair of uniforms gives two values).
 */
export function fillNormal(target: Float32Array | Float64Array, mean: number, std: number): void {
  for (let i = 0; i < target.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random())); // 1 - u is in (0, 1]: the log is finite
    const angle = 2 * Math.PI * random();
    target[i] = mean + std * radius * Math.cos(angle);
    if (i + 1 < target.length) target[i + 1] = mean + std * radius * Math.sin(angle);
  }
}

/**
 * Seeds the global generator (PyTorch's `torch.manual_seed`): after `manualSeed(n)`, constructing the same
 * modules and running the same training-mode forwards gives the same parameters and dropout masks.
 *
 * @param seed any integer (negative and above 2^53 as a bigint included); it is taken modulo 2^64.
 * @example
 * ```ts
 * manualSeed(0);
 * const a = new LSTM(10, 20);
 * manualSeed(0);
 * const b = new LSTM(10, 20);   // the same weights as a
 * ```
 */
export function manualSeed(seed: number | bigint): void {
  if (!(typeof seed === 'bigint' || isInteger(seed))) {
    throw new TypeError(`manualSeed expected an integer, got: ${describe(seed)}`);
  }
  seedState(BigInt(seed));
}

seedState(randomBytes(8).readBigUInt64LE(0));
