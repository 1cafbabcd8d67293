import { describe, expect, test } from 'vitest';
import { GREEDY, TokenSampler } from '../../../../src-main/engine/models/qwen-text.ts';

const logits = Float32Array.of(1, 3, 2.9, -1, 0.5);
const none = new Set<number>();

describe('TokenSampler', () => {
  test('greedy picks the argmax, the first one on ties', () => {
    expect(new TokenSampler(GREEDY).pick(logits, none)).toBe(1);
    expect(new TokenSampler(GREEDY).pick(Float32Array.of(0, 2, 2), none)).toBe(1);
  });

  test('repetition penalty divides positive and multiplies negative logits of seen tokens (transformers)', () => {
    const sampler = new TokenSampler({ ...GREEDY, repetitionPenalty: 1.1 });
    expect(sampler.pick(logits, new Set([1]))).toBe(2); // 3/1.1 < 2.9
    expect(sampler.pick(Float32Array.of(-1, -1.05), new Set([0]))).toBe(1); // −1·1.1 < −1.05
  });

  test('the same seed gives the same draws; another seed eventually differs', () => {
    const o = { temperature: 1.5, topP: 1, topK: 0, repetitionPenalty: 1 };
    const draws = (seed: number) => {
      const s = new TokenSampler(o, seed);
      return Array.from({ length: 40 }, () => s.pick(logits, none));
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(new Set(draws(7)).size).toBeGreaterThan(2);
  });

  test('top-k 1 and a tiny top-p both reduce sampling to the argmax', () => {
    const k1 = new TokenSampler({ temperature: 5, topP: 1, topK: 1, repetitionPenalty: 1 }, 1);
    const p0 = new TokenSampler({ temperature: 5, topP: 1e-3, topK: 0, repetitionPenalty: 1 }, 1);
    for (let i = 0; i < 50; i++) {
      expect(k1.pick(logits, none)).toBe(1);
      expect(p0.pick(logits, none)).toBe(1);
    }
  });

  test('top-p keeps the smallest set of tokens whose mass reaches p', () => {
    // probabilities ∝ e^l: token 1 holds 0.47 of the mass, tokens 1 and 2 together 0.89
    const s = new TokenSampler({ temperature: 1, topP: 0.6, topK: 0, repetitionPenalty: 1 }, 3);
    const seen = new Set(Array.from({ length: 300 }, () => s.pick(logits, none)));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  test('draw frequencies follow the softmax', () => {
    const s = new TokenSampler({ temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1 }, 11);
    const counts = new Array(5).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[s.pick(logits, none)]++;
    const z = Array.from(logits).reduce((a, l) => a + Math.exp(l), 0);
    Array.from(logits).forEach((l, i) =>
      expect(Math.abs(counts[i] / n - Math.exp(l) / z), `token ${i}`).toBeLessThan(0.015),
    );
  });

  test('rejects nonsense options', () => {
    expect(() => new TokenSampler({ ...GREEDY, temperature: -1 })).toThrow(RangeError);
    expect(() => new TokenSampler({ ...GREEDY, topP: 0 })).toThrow(RangeError);
    expect(() => new TokenSampler({ ...GREEDY, topK: 1.5 })).toThrow(RangeError);
    expect(() => new TokenSampler({ ...GREEDY, repetitionPenalty: 0 })).toThrow(RangeError);
  });
});
