/**
 * The CLI on bad input, run as a user runs it (`node bin/fusion-cam.js explain …` in a child
 * process): one clear line on stderr, no stack trace, a non-zero exit; and the odd-but-valid
 * images (1×1, 16-bit PNG, CMYK JPEG) work. Broken models are copies in a temp folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ProcessRun } from '../test-utils/runProcess';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmykJpeg, corrupted, jpegImage, png16, pngImage, truncated } from '../../e2e/badImages';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? path.join(ROOT, '../shared'));
const MODEL = path.join(SHARED, 'models', 'mobilenet_v1_0.25_224');
const PHOTO = path.join(SHARED, 'images', 'photos', 'dog.jpg');

let tmp = '';
const t = (name: string) => path.join(tmp, name);

type Run = ProcessRun;
const cli = (args: string[]): Promise<Run> => runCli(args, { timeout: 90_000 });

const explain = (...args: string[]) => cli(['explain', '--methods', 'gradcam', '--out', t('out'), ...args]);

/** One clear first line naming the problem, no stack trace, non-zero exit. */
function expectOneClearLine(r: Run, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(0);
  const first = r.stderr.split('\n')[0];
  expect(first).toMatch(/^fusion-cam: /);
  expect(first).toMatch(pattern);
  expect(first.length).toBeLessThan(300);
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // stack frames
  expect(r.stderr).not.toMatch(/node:internal|TypeError|ReferenceError/);
  // an error line is never followed by anything but the usage text
  const rest = r.stderr.split('\n').slice(1).join('\n').trim();
  if (rest) expect(rest).toMatch(/^usage: fusion-cam explain/);
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fusion-cam-cli-'));
  const png = pngImage(64, 48);
  const jpg = await fs.readFile(PHOTO);
  await Promise.all([
    fs.writeFile(t('notes.jpg'), 'hello, I am a text file, not a picture\n'),
    fs.writeFile(t('empty.png'), Buffer.alloc(0)),
    fs.writeFile(t('truncated.jpg'), truncated(jpg, 0.1)),
    fs.writeFile(t('corrupted.jpg'), corrupted(jpg)),
    fs.writeFile(t('truncated.png'), truncated(png, 0.5)),
    fs.writeFile(t('corrupted.png'), corrupted(png)),
    fs.writeFile(t('one.png'), pngImage(1, 1)),
    fs.writeFile(t('deep.png'), png16(40, 30)),
    fs.writeFile(t('cmyk.jpg'), cmykJpeg(48, 32)),
    fs.writeFile(t('small.jpg'), jpegImage(30, 20)),
  ]);
  // broken copies of the model (the shared folder is never touched)
  const files = await fs.readdir(MODEL);
  const manifest = JSON.parse(await fs.readFile(path.join(MODEL, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const shard = manifest.weightsManifest[1].paths[0];
  for (const dir of ['missing-shard', 'short-shard', 'long-shard']) {
    await fs.mkdir(t(dir));
    await Promise.all(files.map((f) => fs.copyFile(path.join(MODEL, f), path.join(t(dir), f))));
  }
  await fs.rm(path.join(t('missing-shard'), shard));
  const full = await fs.readFile(path.join(MODEL, shard));
  await fs.writeFile(path.join(t('short-shard'), shard), full.subarray(0, full.length - 4));
  await fs.writeFile(path.join(t('long-shard'), shard), Buffer.concat([full, Buffer.alloc(4)]));
  await fs.mkdir(t('not-a-model'));
  await fs.writeFile(path.join(t('not-a-model'), 'model.json'), JSON.stringify({ name: 'my photos', items: [1, 2, 3] }));
  await fs.writeFile(t('broken.json'), '{"modelTopology": ');
}, 60_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.concurrent('fusion-cam explain on bad images', () => {
  it('a missing file', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('nope.jpg')), /Image not found: .*nope\.jpg/));
  it('a file that is not an image', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('notes.jpg')), /notes\.jpg is not a PNG or JPEG image/));
  it('an empty file', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('empty.png')), /empty\.png is empty/));
  it('a truncated JPEG', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('truncated.jpg')), /truncated\.jpg could not be decoded/));
  it('a corrupted JPEG', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('corrupted.jpg')), /corrupted\.jpg could not be decoded/));
  it('a truncated PNG', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('truncated.png')), /truncated\.png could not be decoded/));
  it('a corrupted PNG', async () => expectOneClearLine(await explain('--model', MODEL, '--image', t('corrupted.png')), /corrupted\.png could not be decoded/));
});

describe.concurrent('fusion-cam explain on bad models, layers, classes and parameters', () => {
  it('a model.json that is not a model', async () => expectOneClearLine(await explain('--model', t('not-a-model'), '--image', PHOTO), /not a TF\.js model/));
  it('a model.json that is not JSON', async () => expectOneClearLine(await explain('--model', t('broken.json'), '--image', PHOTO), /broken\.json is not valid JSON/));
  it('a model folder that does not exist', async () => expectOneClearLine(await explain('--model', t('no-such-model'), '--image', PHOTO), /Model not found/));
  it('a missing weight shard', async () => expectOneClearLine(await explain('--model', t('missing-shard'), '--image', PHOTO), /Weight file "group2-shard1of1" could not be read: the file is missing from /));
  it('a weight shard that is too short', async () => expectOneClearLine(await explain('--model', t('short-shard'), '--image', PHOTO), /Weight file "group2-shard1of1" holds \d+ bytes .*need \d+/));
  it('a weight shard that is too long', async () => expectOneClearLine(await explain('--model', t('long-shard'), '--image', PHOTO), /Weight file "group2-shard1of1" holds \d+ bytes/));
  it('an unknown layer', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--layer', 'conv_pw_99'), /No layer named "conv_pw_99"/));
  it('a layer with no spatial extent (1×1)', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--layer', 'conv_preds'), /conv_preds.*1, 1, 1000.*larger than 1×1/));
  it('a layer after the class scores (reshape)', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--layer', 'reshape_2'), /reshape_2/));
  it('a class index out of range', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--class', '1000'), /Class index 1000 is out of range: the model has classes 0–999/));
  it('a class index that is not an integer', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--class', '2.5'), /--class must be a class index \(a whole number ≥ 0\), got "2\.5"/));
  it('a negative class index', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--class=-3'), /--class must be a class index .*, got "-3"/));
  it('θ outside [0, 100)', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--theta', '100'), /--theta must be a percentile in \[0, 100\), got "100"/));
  it('τ of zero', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--tau', '0'), /--tau must be a number above 0, got "0"/));
  it('τ that is not a number', async () => expectOneClearLine(await explain('--model', MODEL, '--image', PHOTO, '--tau', 'abc'), /--tau must be a number above 0, got "abc"/));
  it('no --model', async () => expectOneClearLine(await explain('--image', PHOTO), /--model is required/));
});

/** Reads a written .f32 map and checks it is finite and in [0, 1]. */
async function expectFiniteMap(file: string, size = 224 * 224): Promise<Float32Array> {
  const b = await fs.readFile(file);
  expect(b.length).toBe(size * 4);
  const m = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  for (const v of m) expect(Number.isFinite(v) && v >= 0 && v <= 1).toBe(true);
  return m;
}

describe.concurrent('fusion-cam explain on odd but valid images', () => {
  for (const [file, size] of [
    ['one.png', [1, 1]],
    ['deep.png', [40, 30]],
    ['cmyk.jpg', [48, 32]],
  ] as const) {
    it(`${file} (${size.join('×')}) is explained`, async () => {
      const out = t(`out-${file}`);
      const r = await cli(['explain', '--methods', 'gradcam', '--out', out, '--model', MODEL, '--image', t(file)]);
      expect(r.code, r.stderr).toBe(0);
      const stem = file.replace(/\.[^.]+$/, '');
      const report = JSON.parse(await fs.readFile(path.join(out, `${stem}.json`), 'utf8'));
      expect(report.imageSize).toEqual(size);
      await expectFiniteMap(path.join(out, `${stem}.gradcam.f32`));
    });
  }

  it('the CMYK JPEG decodes to its colours (red left, blue right), not to inverted or grey pixels', async () => {
    const out = t('out-cmyk-input');
    const r = await cli(['explain', '--methods', 'gradcam', '--save-input', '--out', out, '--model', MODEL, '--image', t('cmyk.jpg')]);
    expect(r.code, r.stderr).toBe(0);
    const { PNG } = await import('pngjs');
    const png = PNG.sync.read(await fs.readFile(path.join(out, 'cmyk.input.png')));
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    const [r0, g0, b0] = at(20, 112);
    const [r1, g1, b1] = at(200, 112);
    expect(r0).toBeGreaterThan(200);
    expect(Math.max(g0, b0)).toBeLessThan(60);
    expect(b1).toBeGreaterThan(200);
    expect(Math.max(r1, g1)).toBeLessThan(60);
  });

  it('an all-zero Grad-CAM (a class with only negative evidence) is written as a finite map with the reason', async () => {
    // kite.jpg, class 550 (espresso maker): its lowest-scoring classes have Σ_k α_k A_k ≤ 0 everywhere at conv_pw_13_relu
    const out = t('out-zero');
    const r = await cli(['explain', '--methods', 'gradcam', '--class', '550', '--out', out, '--model', MODEL, '--image', path.join(SHARED, 'images', 'photos', 'kite.jpg')]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await fs.readFile(path.join(out, 'kite.json'), 'utf8'));
    expect(report.methods.gradcam.allZero).toBe(true);
    expect(report.methods.gradcam.warnings.join(' ')).toMatch(/all evidence is negative for this class at this layer/);
    const m = await expectFiniteMap(path.join(out, 'kite.gradcam.f32'));
    expect(Math.max(...m)).toBe(0);
  });

  it('--methods eigencam,hirescam: the two new methods from their registry lines, written like the others', async () => {
    const out = t('out-new');
    const r = await cli(['explain', '--methods', 'eigencam,hirescam', '--out', out, '--model', MODEL, '--image', path.join(SHARED, 'images', 'photos', 'kite.jpg')]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await fs.readFile(path.join(out, 'kite.json'), 'utf8'));
    expect(Object.keys(report.methods)).toEqual(['eigencam', 'hirescam']);
    for (const m of ['eigencam', 'hirescam']) {
      const map = await expectFiniteMap(path.join(out, `kite.${m}.f32`));
      expect(Math.max(...map)).toBe(1);
      expect(Math.min(...map)).toBe(0);
    }
    // neither runs a masked or ablated forward pass: the session counts only the image's own
    expect(report.forwardPasses).toBe(1);
    const bad = await explain('--methods', 'nope', '--model', MODEL, '--image', PHOTO);
    expectOneClearLine(bad, /Unknown method "nope" \(known: .*hirescam, eigencam, .*fusioncam\)/);
  });
});
