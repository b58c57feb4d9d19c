import { describe, expect, it } from 'vitest';
import { nonFiniteMessage, valueRange } from './render';

describe('maps with NaN or ±Inf are reported, not drawn', () => {
  it('counts NaN and infinite values separately, and says nothing for a finite map', () => {
    expect(nonFiniteMessage(Float32Array.from([0, 0.5, 1, -2]))).toBeNull();
    expect(nonFiniteMessage(Float32Array.from([0, NaN, 1, NaN]))).toBe('Not drawn: the map has 2 NaN values (of 4); its numbers cannot be shown as colours.');
    expect(nonFiniteMessage(Float32Array.from([Infinity, NaN, -Infinity, 0, 1]))).toBe('Not drawn: the map has 1 NaN and 2 infinite values (of 5); its numbers cannot be shown as colours.');
    expect(nonFiniteMessage(Float32Array.from([Infinity]))).toBe('Not drawn: the map has 1 infinite value (of 1); its numbers cannot be shown as colours.');
  });

  it('a shared colour scale ignores non-finite values', () => {
    expect(valueRange([Float32Array.from([0.2, NaN, 0.7]), Float32Array.from([Infinity, 0.1])])).toEqual([Math.fround(0.1), Math.fround(0.7)]);
    expect(valueRange([Float32Array.from([NaN])])).toEqual([0, 1]);
  });
});
