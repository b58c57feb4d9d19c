/**
 * Sharded evaluation: `evaluate --shard K/N` parts run as separate processes (as pods would) and
 * `merge` must give back exactly what one run over the whole list writes — the same rows, in the
 * same order, timing columns aside — and refuse parts that do not belong together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ProcessRun } from '../test-utils/runProcess';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseShard, shardPosition, takeShard } from './shard';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? path.join(ROOT, '../shared'));
const MODEL = path.join(SHARED, 'models', 'mobilenet_v1_0.25_224');
const IMAGES = path.join(SHARED, 'images', 'imagenet_val');

describe('--shard K/N', () => {
  it('deals the list round-robin into N disjoint parts that cover it, and maps each back to its place', () => {
    for (const [len, n] of [[10, 3], [7, 7], [3, 5], [1, 1], [12, 4]]) {
      const files = Array.from({ length: len }, (_, i) => `/d/img${String(i).padStart(3, '0')}.jpg`);
      const seen: string[] = [];
      for (let k = 1; k <= n; k++) {
        const { files: part, record } = takeShard(files, { index: k, count: n });
        expect(record).toMatchObject({ index: k, count: n, listSize: len, images: part.map((f) => path.basename(f)) });
        part.forEach((f, j) => {
          expect(files.indexOf(f)).toBe(shardPosition({ index: k, count: n }, j));
          expect(files.indexOf(f) % n).toBe(k - 1);
        });
        seen.push(...part);
      }
      expect([...seen].sort()).toEqual(files);
    }
  });
  it('refuses anything but 1 ≤ K ≤ N', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShard(undefined)).toBeNull();
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '1.5/3', '-1/3']) expect(() => parseShard(bad)).toThrow(/--shard must be K\/N/);
  });
});

type Run = ProcessRun;
const cli = (args: string[]): Promise<Run> => runCli(args, { timeout: 110_000 });

// two cheap gradient methods (so the order of methods within an image is checked too), 5 images, 3 parts
const COMMON = ['evaluate', '--model', MODEL, '--images', IMAGES, '--methods', 'gradcam,layercam', '--limit', '5', '--seed', '3', '--workers', '1', '--step', '2048'];
let tmp = '';
const t = (name: string) => path.join(tmp, name);
let single: Run;
const parts: Run[] = [];

/** CSV lines without the two timing columns (the last two; className may hold quoted commas, so cut from the end). */
const withoutTiming = (csv: string) => csv.trim().split('\n').map((l) => l.replace(/,[^,]*,[^,]*$/, ''));
const readJson = async (f: string) => JSON.parse(await fs.readFile(f, 'utf8'));

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fusion-cam-shard-'));
  // the parts run as separate processes at the same time, as pods would
  const [one, ...ps] = await Promise.all([
    cli([...COMMON, '--out', t('one.csv')]),
    ...[1, 2, 3].map((k) => cli([...COMMON, '--shard', `${k}/3`, '--out', t(`part${k}.csv`)])),
  ]);
  single = one;
  parts.push(...ps);
}, 240_000);
afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('evaluate --shard, then merge', () => {
  it('merged parts equal one run: the same CSV rows in the same order, the same JSON and summary', async () => {
    expect(single.code, single.stderr).toBe(0);
    for (const p of parts) expect(p.code, p.stderr).toBe(0);
    const m = await cli(['merge', t('part1.csv'), t('part3.csv'), t('part2.csv'), '--out', t('merged/results.csv')]);
    expect(m.code, m.stderr).toBe(0);
    const oneCsv = withoutTiming(await fs.readFile(t('one.csv'), 'utf8'));
    const mergedCsv = withoutTiming(await fs.readFile(t('merged/results.csv'), 'utf8'));
    expect(oneCsv.length).toBe(1 + 5 * 2);
    expect(mergedCsv).toEqual(oneCsv);
    // every part did only its own images
    const partRows = await Promise.all([1, 2, 3].map(async (k) => withoutTiming(await fs.readFile(t(`part${k}.csv`), 'utf8')).length - 1));
    expect(partRows).toEqual([4, 4, 2]);

    const one = await readJson(t('one.json'));
    const merged = await readJson(t('merged/results.json'));
    const noTiming = (rows: Record<string, unknown>[]) => rows.map(({ mapMs, metricsMs, ...r }) => (void mapMs, void metricsMs, r));
    expect(noTiming(merged.rows)).toEqual(noTiming(one.rows));
    expect(merged.curves).toEqual(one.curves);
    expect(merged.summary).toEqual(one.summary);
    expect(merged.settings).toEqual(one.settings);
    expect(merged.mergedFrom.map((p: { shard: string }) => p.shard)).toEqual(['1/3', '2/3', '3/3']);
    // merge prints the summary table evaluate prints
    expect(m.stdout).toBe(single.stdout);
  });

  it('each part records its shard in the JSON', async () => {
    const j = await readJson(t('part2.json'));
    expect(j.settings.shard).toMatchObject({ index: 2, count: 3, order: 'round-robin', listSize: 5 });
    expect(j.settings.shard.images).toEqual(j.rows.filter((r: { method: string }) => r.method === 'gradcam').map((r: { image: string }) => r.image));
  });

  it('refuses a missing part, a part given twice, other settings, an unfinished part, in one line', async () => {
    const expectRefusal = (r: Run, pattern: RegExp) => {
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };
    expectRefusal(await cli(['merge', t('part1.csv'), t('part3.csv'), '--out', t('x.csv')]), /^fusion-cam: error: missing part 2\/3 \(got 1, 3\)/);
    expectRefusal(await cli(['merge', t('part1.csv'), t('part2.csv'), t('part2.csv'), t('part3.csv'), '--out', t('x.csv')]), /part 2\/3 given twice/);
    expectRefusal(await cli(['merge', t('one.csv'), t('part2.csv'), '--out', t('x.csv')]), /one\.json was not made with --shard/);

    // a part made with another θ (edited in its JSON: the merge check reads the settings it records)
    const p3 = await readJson(t('part3.json'));
    await fs.writeFile(t('theta3.json'), JSON.stringify({ ...p3, settings: { ...p3.settings, theta: 20 } }));
    expectRefusal(await cli(['merge', t('part1.csv'), t('part2.csv'), t('theta3.csv'), '--out', t('x.csv')]), /different settings: theta is 10 in .*part1\.json but 20 in .*theta3\.json/);
    // a part whose last image never finished (a pod that died)
    await fs.writeFile(t('short3.json'), JSON.stringify({ ...p3, rows: p3.rows.slice(0, -1) }));
    expectRefusal(await cli(['merge', t('part1.csv'), t('part2.csv'), t('short3.csv'), '--out', t('x.csv')]), /part 3\/3 .* did not finish: 0 of 1 images done/);
    // the same image in two parts (a part file copied under another number)
    const p2 = await readJson(t('part2.json'));
    await fs.writeFile(t('dup3.json'), JSON.stringify({ ...p3, rows: [...p3.rows, ...p2.rows] }));
    expectRefusal(await cli(['merge', t('part1.csv'), t('part2.csv'), t('dup3.csv'), '--out', t('x.csv')]), /is in two parts/);
    // a part cut from another list (another --limit)
    const limit4 = COMMON.map((a, i) => (COMMON[i - 1] === '--limit' ? '4' : a));
    const other = await cli([...limit4, '--shard', '3/3', '--out', t('limit4.csv')]);
    expect(other.code, other.stderr).toBe(0);
    expectRefusal(await cli(['merge', t('part1.csv'), t('part2.csv'), t('limit4.csv'), '--out', t('x.csv')]), /different settings: limit is 5 in .*part1\.json but 4 in .*limit4\.json/);
    await expect(fs.stat(t('x.csv'))).rejects.toThrow();
  });
});
