/** The README's method table lists exactly the registry's methods, in its order, with what each declares. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { METHODS } from './registry';

describe('README method table', () => {
  it('has one row per registered method: id, label, family, needs', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    const block = readme.split('<!-- methods:start -->')[1]?.split('<!-- methods:end -->')[0];
    expect(block, 'the methods:start / methods:end markers').toBeDefined();
    const rows = block!
      .trim()
      .split('\n')
      .slice(2)
      .map((line) => line.split('|').slice(1, -1).map((c) => c.trim()));
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    expect(rows).toEqual(METHODS.map((m) => [m.id, m.label, m.family, yes(m.needs.gradients), yes(m.needs.forwardPasses)]));
  });
});
