/** evaluate/metrics CLI helpers: ground truth parsing, seeded subsets, summary means, map files. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatSummary, parseGroundTruth, shuffled, summarize, type ResultRow } from './evaluate';
import { readMapFile } from './metrics';

describe('ground truth', () => {
  it('reads the imagenet_val layout and keys entries by file name', () => {
    const gt = parseGroundTruth(JSON.stringify({ images: [{ file: 'a/x.JPEG', label: 3, width: 200, height: 100, boxes_xyxy: [[1, 2, 3, 4]] }, { file: 'y.png' }] }), 'l.json');
    expect(gt.get('x.JPEG')).toEqual({ label: 3, width: 200, height: 100, boxes: [[1, 2, 3, 4]] });
    expect(gt.get('y.png')).toEqual({});
  });
  it('names the problem in one line', () => {
    expect(() => parseGroundTruth('{', 'l.json')).toThrow('l.json is not valid JSON');
    expect(() => parseGroundTruth('{"images": [{"file": "a", "label": 1.5}]}', 'l.json')).toThrow(/label of a is not a class index/);
    expect(() => parseGroundTruth('{"images": [{"file": "a", "boxes_xyxy": [[1, 2, 3]]}]}', 'l.json')).toThrow(/box of a/);
  });
});

describe('seeded subsets', () => {
  it('a seed gives the same permutation every time, and a different seed another', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(shuffled(items, 7)).toEqual(shuffled(items, 7));
    expect(shuffled(items, 7)).not.toEqual(shuffled(items, 8));
    expect([...shuffled(items, 7)].sort((a, b) => a - b)).toEqual(items);
  });
});

describe('summary', () => {
  const row = (method: string, drop: number, inc: number, del: number, ins: number, pg: number | '' = ''): ResultRow => ({
    image: 'i', method, model: 'm', layer: 'l', classIndex: 0, className: 'c', classSource: 'predicted', label: '', predicted: 0,
    probability: 0.5, maskedProbability: 0.4, averageDrop: drop, increase: inc, deletionAuc: del, insertionAuc: ins,
    pointing: pg, energyPointing: pg === '' ? '' : pg / 2, mapMs: 0, metricsMs: 0,
  });
  it('averages per method over images, pointing only over images with boxes', () => {
    const rows = [row('gradcam', 0.2, 1, 0.1, 0.5, 1), row('gradcam', 0.4, 0, 0.3, 0.7, ''), row('fusioncam', 0.1, 1, 0.05, 0.6, 0)];
    const s = summarize(rows, ['gradcam', 'scorecam', 'fusioncam']);
    expect(s.map((r) => r.method)).toEqual(['gradcam', 'fusioncam']);
    expect(s[0]).toMatchObject({ images: 2, increase: 0.5, pointing: 1, energyPointing: 0.5 });
    expect(s[0].averageDrop).toBeCloseTo(0.3, 12);
    expect(s[0].deletion).toBeCloseTo(0.2, 12);
    expect(s[0].insertion).toBeCloseTo(0.6, 12);
    const table = formatSummary(s);
    expect(table.split('\n')[0]).toMatch(/Method.*Model.*Avg Drop.*Increase.*Deletion.*Insertion.*Pointing.*Energy/);
    expect(table).toContain('Grad-CAM');
    expect(table).toContain('0.3000');
  });
});

describe('map files', () => {
  it('reads little-endian float32 and refuses a wrong size or NaN with one clear line', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fcam-map-'));
    const good = Buffer.alloc(2 * 3 * 4);
    [0, 0.25, 0.5, 1, -2, 3.5].forEach((v, i) => good.writeFloatLE(v, i * 4));
    await fs.writeFile(path.join(dir, 'good.f32'), good);
    expect(Array.from(await readMapFile(path.join(dir, 'good.f32'), [2, 3]))).toEqual([0, 0.25, 0.5, 1, -2, 3.5]);
    await expect(readMapFile(path.join(dir, 'good.f32'), [4, 4])).rejects.toThrow(/holds 24 bytes = 6 float32 values; the model input is 4×4/);
    good.writeFloatLE(NaN, 4 * 4);
    await fs.writeFile(path.join(dir, 'nan.f32'), good);
    await expect(readMapFile(path.join(dir, 'nan.f32'), [2, 3])).rejects.toThrow(/NaN or infinite value at pixel 4 \(row 1, column 1\)/);
    await expect(readMapFile(path.join(dir, 'missing.f32'), [2, 3])).rejects.toThrow(/Map file not found/);
    await fs.rm(dir, { recursive: true });
  });
});
