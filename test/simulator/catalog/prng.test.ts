import { describe, expect, it } from '@jest/globals';
import { Prng, substream } from '../../../src/simulator/catalog/prng.js';

const draw = (rng: Prng, n: number) => Array.from({ length: n }, () => rng.next());

describe('Prng', () => {
  it('repeats its sequence for the same seed and diverges for another', () => {
    const a = draw(new Prng(42), 50);
    expect(draw(new Prng(42), 50)).toEqual(a);
    expect(draw(new Prng(43), 50)).not.toEqual(a);
    expect(new Set(a).size).toBe(50);
  });

  it('keeps next() in [0, 1) with a roughly uniform mean', () => {
    const xs = draw(new Prng(7), 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });

  it('int(min, max) is inclusive at both ends and never leaves the range', () => {
    const rng = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = rng.int(-2, 2);
      expect(Number.isInteger(v)).toBe(true);
      seen.add(v);
    }
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2]);
    expect(rng.int(5, 5)).toBe(5);
    expect(() => rng.int(3, 2)).toThrow(RangeError);
    expect(() => rng.int(0.5, 2)).toThrow(RangeError);
  });

  it('pick() returns every element eventually and rejects an empty array', () => {
    const rng = new Prng(9);
    const items = ['a', 'b', 'c'] as const;
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(rng.pick(items));
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(() => rng.pick([])).toThrow(RangeError);
  });

  it('gives different streams per label for one seed', () => {
    expect(draw(substream(1, 'products'), 10)).not.toEqual(draw(substream(1, 'orders'), 10));
    expect(draw(substream(1, 'products'), 10)).toEqual(draw(substream(1, 'products'), 10));
  });
});
