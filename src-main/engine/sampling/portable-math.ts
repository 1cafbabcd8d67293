/**
 * ln and sin/cos built from +, −, ×, ÷ and Math.floor only, for the seeded RNG (rng.ts).
 *
 * Why not Math.log / Math.cos: ECMAScript leaves them "implementation-approximated", and V8 has switched
 * implementations over time (fdlibm port, bundled glibc trig behind a flag); a 1-ulp difference would change
 * the initial noise of a seed between app versions or platforms. ECMAScript does fix the basic operations to
 * IEEE-754 double with round-to-nearest-even and forbids fused multiply-add contraction, so the polynomials
 * below give identical bits on every engine and CPU. Accuracy is a few ulp (tested against Math.*), far finer
 * than the float32 the noise is stored in.
 */

const LN2_HI = 6.9314718036912381649e-1; // fdlibm split of ln 2: LN2_HI has trailing zero bits,
const LN2_LO = 1.90821492927058770002e-10; // so e·LN2_HI is exact for |e| < 2^11
const SQRT_HALF = 0.7071067811865476;
const SQRT_TWO = 1.4142135623730951;
const HALF_PI = Math.PI / 2;

/** 1/3, 1/5, …, 1/25: the atanh series ln f = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …), enough terms for |s| ≤ 0.1716. */
const ATANH_COEFFS = Array.from({ length: 12 }, (_, k) => 1 / (2 * k + 3));
/** (−1)^k/(2k+1)! and (−1)^k/(2k)! for |θ| ≤ π/4: the first omitted terms are below 1e-19. */
const SIN_COEFFS = Array.from({ length: 9 }, (_, k) => (k % 2 === 0 ? 1 : -1) / factorial(2 * k + 1));
const COS_COEFFS = Array.from({ length: 10 }, (_, k) => (k % 2 === 0 ? 1 : -1) / factorial(2 * k));

function factorial(n: number): number {
  let f = 1;
  for (let k = 2; k <= n; k++) f *= k; // exact in double up to 18!; 19! and above are used only as tiny coefficients
  return f;
}

function horner(coeffs: readonly number[], z: number): number {
  let acc = 0;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = acc * z + coeffs[k]!;
  return acc;
}

/** Natural logarithm of a positive finite double (normal range). */
export function portableLog(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? -Infinity : NaN;
  // x = 2^e · f with f ∈ [√½, √2]; scaling by 2 is exact.
  let e = 0;
  let f = x;
  while (f < SQRT_HALF) {
    f *= 2;
    e--;
  }
  while (f > SQRT_TWO) {
    f *= 0.5;
    e++;
  }
  const s = (f - 1) / (f + 1); // f − 1 is exact (Sterbenz)
  const z = s * s;
  const lnF = 2 * s + 2 * s * z * horner(ATANH_COEFFS, z);
  return e * LN2_HI + (e * LN2_LO + lnF);
}

/** [cos(2πu), sin(2πu)] for u ∈ [0, 1). The quadrant split is exact because it only scales u by 4. */
export function portableCosSin2Pi(u: number): [number, number] {
  const u4 = u * 4;
  let quadrant = Math.floor(u4);
  let r = u4 - quadrant; // exact, in [0, 1)
  if (r >= 0.5) {
    r -= 1;
    quadrant += 1;
  } // θ ∈ [−π/4, π/4) for the fastest-converging series
  const theta = r * HALF_PI;
  const z = theta * theta;
  const sin = theta * horner(SIN_COEFFS, z);
  const cos = horner(COS_COEFFS, z);
  switch (quadrant & 3) {
    case 0:
      return [cos, sin];
    case 1:
      return [-sin, cos];
    case 2:
      return [-cos, -sin];
    default:
      return [sin, -cos];
  }
}
