/**
 * Atelier's seeded random number generator (model-notes.md §5.4, §9.3 pitfall 11: torch's Philox stream
 * cannot be reproduced, so seeds are our own). Same seed → identical bits on every platform and engine.
 *
 * Algorithm (fixed; changing any step changes every seed's image):
 * 1. Seeding: the seed s ∈ [0, 2^64) initialises SplitMix64 (state = s; each output: state += 0x9E3779B97F4A7C15,
 *    z = state; z = (z ^ z>>30)·0xBF58476D1CE4E5B9; z = (z ^ z>>27)·0x94D049BB133111EB; z ^= z>>31, all mod 2^64).
 *    Two outputs a, b give the xoshiro128** state [lo(a), hi(a), lo(b), hi(b)] (never all zero: SplitMix64 is a
 *    bijection of its counter).
 * 2. Stream: xoshiro128** 1.1 (Blackman & Vigna): result = rotl(s1·5, 7)·9; t = s1 << 9; s2 ^= s0; s3 ^= s1;
 *    s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11) (32-bit words).
 * 3. Uniform double in [0, 1): two words a, b → ((a >>> 5)·2^26 + (b >>> 6))·2^−53.
 * 4. Standard normals by Box–Muller, two per pair of uniforms u1, u2: ρ = √(−2·ln(1 − u1)),
 *    z0 = ρ·cos(2π·u2), z1 = ρ·sin(2π·u2); z0 is returned first, z1 next. ln/cos/sin are portable-math.ts
 *    (IEEE basic operations only, so engine-independent); √ is Math.sqrt, which engines compile to the CPU's
 *    IEEE-754 square root (correctly rounded on x64 and arm64 alike).
 * 5. Float32 output rounds each normal to nearest float32.
 * The stream is chunk-invariant: filling n then m values equals filling n + m values.
 */
import { portableCosSin2Pi, portableLog } from './portable-math.ts';
import { SamplingError } from './sampling-error.ts';

const MASK64 = (1n << 64n) - 1n;

function splitMix64(state: { value: bigint }): bigint {
  state.value = (state.value + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state.value;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

function toSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new SamplingError('bad-argument', `seed must be a non-negative safe integer, got ${seed}`);
    return BigInt(seed);
  }
  if (seed < 0n || seed > MASK64) throw new SamplingError('bad-argument', `seed must be in [0, 2^64), got ${seed}`);
  return seed;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

export class SeededRng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spareNormal: number | null = null;

  constructor(seed: number | bigint) {
    const state = { value: toSeed(seed) };
    const a = splitMix64(state);
    const b = splitMix64(state);
    this.#s0 = Number(a & 0xffffffffn) | 0;
    this.#s1 = Number(a >> 32n) | 0;
    this.#s2 = Number(b & 0xffffffffn) | 0;
    this.#s3 = Number(b >> 32n) | 0;
  }

  /** Next 32-bit word of xoshiro128**, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat64(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) * 2 ** -53;
  }

  /** Standard normal (float64), Box–Muller pairs in stream order. */
  nextNormal(): number {
    if (this.#spareNormal !== null) {
      const z1 = this.#spareNormal;
      this.#spareNormal = null;
      return z1;
    }
    const u1 = 1 - this.nextFloat64(); // (0, 1]: ln never sees 0
    const u2 = this.nextFloat64();
    const radius = Math.sqrt(-2 * portableLog(u1));
    const [cos, sin] = portableCosSin2Pi(u2);
    this.#spareNormal = radius * sin;
    return radius * cos;
  }

  /** Fill `out` with standard normals rounded to float32. */
  fillNormal(out: Float32Array): Float32Array {
    for (let k = 0; k < out.length; k++) out[k] = this.nextNormal();
    return out;
  }
}

/** `count` float32 standard normals of the seed's stream (e.g. the initial latent x_0, §5.4). */
export function randomNormalFloat32(seed: number | bigint, count: number): Float32Array {
  if (!Number.isSafeInteger(count) || count < 0)
    throw new SamplingError('bad-argument', `count must be a non-negative integer, got ${count}`);
  return new SeededRng(seed).fillNormal(new Float32Array(count));
}
