/**
 * The live camera with Chromium's fake camera: the test writes a y4m video of two photos in
 * turn (src/node/y4m.ts) and points --use-file-for-fake-video-capture at it, so it knows what the
 * camera shows. Checks: the live map follows the picture, Freeze frame gives the three maps and
 * its map equals the map of the same pixels loaded as a PNG file, no tensor growth over 200
 * live frames, the tracks end when live mode ends or the tab is hidden, and the camera errors.
 */
import { test, expect, chromium, type Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { decodeJpeg } from '../src/node/jpegDecode';
import { fitPicture, y4mVideo } from '../src/node/y4m';
import { chooseFile, dropFile, figure, heatmap, openApp, photo, pixelsOf, pixelSpread, waitForFusion, watchConsole } from './helpers';

const W = 320;
const H = 240;
/** 1.5 s of each photo at 30 fps: several maps of each even on a busy machine. */
const FRAMES_EACH = 45;
const load = (name: string) => fitPicture(decodeJpeg(fs.readFileSync(photo(name))), W, H);
const PHOTO_A = load('dog.jpg');
const PHOTO_B = load('kite.jpg');
const Y4M = path.join(os.tmpdir(), `fusion-cam-fake-camera-${process.pid}.y4m`);
fs.writeFileSync(Y4M, y4mVideo([PHOTO_A, PHOTO_B], W, H, { framesEach: FRAMES_EACH }));

const BASE_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FAKE_CAMERA = ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${Y4M}`];

test.use({ launchOptions: { executablePath: CHROMIUM, args: [...BASE_ARGS, ...FAKE_CAMERA, '--use-fake-ui-for-media-stream'] } });

const GX = 20;
const GY = 15;
/** Mean RGB over a GX×GY grid of blocks (any frame size). */
function blockMeans(px: ArrayLike<number>, w: number, h: number, channels: number): number[] {
  const out = new Array(GX * GY * 3).fill(0);
  const n = new Array(GX * GY).fill(0);
  for (let y = 0; y < h; y++) {
    const by = Math.min(GY - 1, Math.floor((y * GY) / h));
    for (let x = 0; x < w; x++) {
      const b = by * GX + Math.min(GX - 1, Math.floor((x * GX) / w));
      const p = (y * w + x) * channels;
      out[b * 3] += px[p];
      out[b * 3 + 1] += px[p + 1];
      out[b * 3 + 2] += px[p + 2];
      n[b]++;
    }
  }
  return out.map((v, i) => v / n[Math.floor(i / 3)]);
}
const mad = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};
const GRID_A = blockMeans(PHOTO_A, W, H, 3);
const GRID_B = blockMeans(PHOTO_B, W, H, 3);

interface Sample {
  seq: number;
  numTensors: number;
  frame: number[];
  map: number[];
  width: number;
  height: number;
}

/** The latest live result, summarised in the page (frame as block means, map 28×28 block means). */
async function liveSample(page: Page): Promise<Sample | null> {
  return page.evaluate(
    ({ GX, GY }) => {
      const r = (window as unknown as { __fusionCamLive: { latest(): { seq: number; numTensors: number; pixels: Uint8ClampedArray; width: number; height: number; map: Float32Array; mapSize: [number, number] } | null } }).__fusionCamLive.latest();
      if (!r) return null;
      const frame = new Array(GX * GY * 3).fill(0);
      const n = new Array(GX * GY).fill(0);
      for (let y = 0; y < r.height; y++) {
        const by = Math.min(GY - 1, Math.floor((y * GY) / r.height));
        for (let x = 0; x < r.width; x++) {
          const b = by * GX + Math.min(GX - 1, Math.floor((x * GX) / r.width));
          const p = (y * r.width + x) * 4;
          frame[b * 3] += r.pixels[p];
          frame[b * 3 + 1] += r.pixels[p + 1];
          frame[b * 3 + 2] += r.pixels[p + 2];
          n[b]++;
        }
      }
      const [mh, mw] = r.mapSize;
      const map = new Array(28 * 28).fill(0);
      for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) map[Math.floor((y * 28) / mh) * 28 + Math.floor((x * 28) / mw)] += r.map[y * mw + x] / ((mh / 28) * (mw / 28));
      return { seq: r.seq, numTensors: r.numTensors, frame: frame.map((v, i) => v / n[Math.floor(i / 3)]), map, width: r.width, height: r.height };
    },
    { GX, GY },
  );
}

async function liveHooks<T>(page: Page, fn: string): Promise<T> {
  return page.evaluate((f) => {
    const h = (window as unknown as { __fusionCamLive: Record<string, unknown> }).__fusionCamLive;
    const v = typeof h[f] === 'function' ? (h[f] as () => unknown)() : h[f];
    return v instanceof Float32Array ? Array.from(v) : (v as T);
  }, fn) as Promise<T>;
}

async function seq(page: Page): Promise<number> {
  return liveHooks<number>(page, 'seq');
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('the live map follows the camera; Freeze frame gives the three maps, equal to the same pixels loaded as a file', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const console = watchConsole(page);
  await openApp(page);
  const requests: { url: string; method: string }[] = [];
  await page.getByRole('button', { name: 'Use camera' }).click();
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));
  const live = figure(page, 'Grad-CAM');
  await expect(live.locator('video')).toBeVisible();
  await expect(page.getByLabel('Live map rate')).toHaveText(/^\d+(\.\d)? maps\/s$/, { timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('listitem')).toHaveCount(5);

  // sample the live results until both photos were seen several times
  const byPhoto: Record<'A' | 'B', Sample[]> = { A: [], B: [] };
  let last = 0;
  const until = Date.now() + 120_000;
  while ((byPhoto.A.length < 3 || byPhoto.B.length < 3) && Date.now() < until) {
    const s = await liveSample(page);
    if (s && s.seq !== last) {
      last = s.seq;
      const dA = mad(s.frame, GRID_A);
      const dB = mad(s.frame, GRID_B);
      // the frame is one of the two photos (after I420 and back): close to one, far from the other
      expect(Math.min(dA, dB), `frame ${s.seq}: ${dA.toFixed(1)} / ${dB.toFixed(1)}`).toBeLessThan(12);
      expect(Math.max(dA, dB)).toBeGreaterThan(25);
      byPhoto[dA < dB ? 'A' : 'B'].push(s);
    }
    await page.waitForTimeout(60);
  }
  expect(byPhoto.A.length).toBeGreaterThanOrEqual(3);
  expect(byPhoto.B.length).toBeGreaterThanOrEqual(3);
  const within = Math.max(...(['A', 'B'] as const).flatMap((k) => byPhoto[k].slice(1).map((s) => mad(s.map, byPhoto[k][0].map))));
  const between = mad(byPhoto.A[0].map, byPhoto.B[0].map);
  testInfo.annotations.push({ type: 'live maps', description: `A ${byPhoto.A.length}, B ${byPhoto.B.length} samples; map MAD within a photo ${within.toFixed(4)}, between photos ${between.toFixed(4)}` });
  expect(within).toBeLessThan(0.02);
  expect(between).toBeGreaterThan(0.08);
  expect(pixelSpread(await pixelsOf(heatmap(page, 'Grad-CAM')))).toBeGreaterThan(5);

  // Freeze frame: the frame of the map on screen becomes the image
  await page.getByRole('button', { name: 'Freeze frame' }).click();
  await expect(page.getByRole('button', { name: 'Resume live' })).toBeVisible();
  expect(await liveHooks<string[]>(page, 'trackStates')).toEqual(['ended']);
  await waitForFusion(page);
  for (const m of ['Grad-CAM', 'Score-CAM', 'Fusion-CAM']) expect(pixelSpread(await pixelsOf(heatmap(page, m))), m).toBeGreaterThan(5);
  const frozen = await page.evaluate(() => {
    const r = (window as unknown as { __fusionCamLive: { frozenFrom(): { map: Float32Array; pixels: Uint8ClampedArray; width: number; height: number } } }).__fusionCamLive.frozenFrom();
    let s = '';
    for (let i = 0; i < r.pixels.length; i += 0x8000) s += String.fromCharCode(...r.pixels.subarray(i, i + 0x8000));
    return { map: Array.from(r.map), pixels: btoa(s), width: r.width, height: r.height };
  });
  const frozenPhotoMap = await liveHooks<number[]>(page, 'photoGradientMap');
  expect(maxAbsDiff(frozenPhotoMap, frozen.map), 'frozen image vs its live map').toBeLessThanOrEqual(1e-6);

  // the same pixels as a PNG file (encoded here, by pngjs), loaded as a user would
  const png = new PNG({ width: frozen.width, height: frozen.height });
  Buffer.from(frozen.pixels, 'base64').copy(png.data);
  const file = testInfo.outputPath('frozen-frame.png');
  fs.writeFileSync(file, PNG.sync.write(png));
  await chooseFile(page, file);
  await expect(page.getByText('frozen-frame.png', { exact: false }).first()).toBeVisible();
  await expect.poll(async () => (await liveHooks<number[] | null>(page, 'photoGradientMap'))?.length ?? 0).toBe(frozen.map.length);
  const fileMap = await liveHooks<number[]>(page, 'photoGradientMap');
  const d = maxAbsDiff(fileMap, frozen.map);
  testInfo.annotations.push({ type: 'live vs file', description: `max |live − file| = ${d}` });
  expect(d, 'the PNG file vs the live map of the same pixels').toBeLessThanOrEqual(1e-6);

  // Resume live: the camera again; the tab hidden stops it, shown again restarts it
  await page.getByRole('button', { name: 'Resume live' }).click();
  await expect(page.getByRole('button', { name: 'Freeze frame' })).toBeEnabled({ timeout: 60_000 });
  expect(await liveHooks<string[]>(page, 'trackStates')).toEqual(['live']);
  const setVisibility = (state: 'hidden' | 'visible') =>
    page.evaluate((st) => {
      Object.defineProperty(document, 'visibilityState', { value: st, configurable: true });
      Object.defineProperty(document, 'hidden', { value: st === 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
  await setVisibility('hidden');
  await expect.poll(() => liveHooks<string[]>(page, 'trackStates')).toEqual(['ended']);
  await expect(page.getByLabel('Live map rate')).toHaveText('paused');
  await setVisibility('visible');
  await expect.poll(() => liveHooks<string[]>(page, 'trackStates'), { timeout: 30_000 }).toEqual(['live']);
  const s0 = await seq(page);
  await expect.poll(() => seq(page), { timeout: 60_000 }).toBeGreaterThan(s0 + 2);

  // Stop camera: tracks end, the photo panels come back with the image shown before
  await page.getByRole('button', { name: 'Stop camera' }).click();
  expect(await liveHooks<string[]>(page, 'trackStates')).toEqual(['ended']);
  await expect(page.getByRole('button', { name: 'Use camera' })).toBeVisible();
  await expect(figure(page, 'Input')).toBeVisible();
  await expect(heatmap(page, 'Grad-CAM')).toBeVisible({ timeout: 60_000 });

  // no frame left the page: only same-origin GETs (models, assets) while the camera ran
  const origin = new URL(page.url()).origin;
  for (const r of requests) {
    expect(r.method, r.url).toBe('GET');
    expect(r.url.startsWith(origin) || r.url.startsWith('blob:') || r.url.startsWith('data:'), r.url).toBe(true);
  }
  console.assertClean();
});

test('no tensor growth over 200 live frames', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await openApp(page);
  await page.getByRole('button', { name: 'Use camera' }).click();
  await expect.poll(() => seq(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(10);
  const first = await liveSample(page);
  const t0 = Date.now();
  await expect.poll(() => seq(page), { timeout: 240_000, intervals: [500] }).toBeGreaterThanOrEqual(first!.seq + 200);
  const after = await liveSample(page);
  testInfo.annotations.push({ type: 'tensors', description: `frame ${first!.seq}: ${first!.numTensors}, frame ${after!.seq}: ${after!.numTensors}; ${(((after!.seq - first!.seq) * 1000) / (Date.now() - t0)).toFixed(1)} maps/s` });
  expect(after!.numTensors).toBe(first!.numTensors);
  await page.getByRole('button', { name: 'Stop camera' }).click();
});

/** getUserMedia / enumerateDevices replaced before the page's scripts run. */
async function failCamera(page: Page, kind: 'NotAllowedError' | 'NotFoundError' | 'NotReadableError' | 'no devices'): Promise<void> {
  await page.addInitScript((k) => {
    const md = navigator.mediaDevices;
    if (k === 'no devices') {
      md.enumerateDevices = async () => [];
      md.getUserMedia = async () => {
        throw new DOMException('Requested device not found', 'NotFoundError');
      };
      return;
    }
    md.getUserMedia = async () => {
      throw new DOMException('camera refused', k);
    };
  }, kind);
}

for (const [kind, message] of [
  ['NotAllowedError', /permission was denied/i],
  ['NotFoundError', /no camera was found/i],
  ['no devices', /no camera was found/i],
  ['NotReadableError', /in use by another application/i],
] as const) {
  test(`camera error ${kind}: a clear message, and photos still work`, async ({ page }) => {
    await failCamera(page, kind);
    await openApp(page);
    await page.getByRole('button', { name: 'Use camera' }).click();
    await expect(page.getByRole('alert').filter({ hasText: message })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Use camera' })).toBeVisible();
    await dropFile(page, photo('dog.jpg'));
    await expect(figure(page, 'Grad-CAM').getByText(/class \d+/)).toBeVisible({ timeout: 60_000 });
  });
}

test('a browser that denies the camera permission: the message, and the app keeps working', async ({ baseURL }) => {
  // no --use-fake-ui-for-media-stream: the permission is asked for, and the context has none
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...FAKE_CAMERA] });
  try {
    const context = await browser.newContext({ baseURL, permissions: [] });
    const page = await context.newPage();
    await openApp(page);
    await page.getByRole('button', { name: 'Use camera' }).click();
    await expect(page.getByRole('alert').filter({ hasText: /permission was denied/i })).toBeVisible();
    await dropFile(page, photo('dog.jpg'));
    await expect(figure(page, 'Grad-CAM').getByText(/class \d+/)).toBeVisible({ timeout: 60_000 });
  } finally {
    await browser.close();
  }
});

test('several cameras: a picker; the live method can be any gradient method', async ({ page }) => {
  test.setTimeout(180_000);
  // two cameras listed; getUserMedia records what was asked and opens the fake camera
  await page.addInitScript(() => {
    const md = navigator.mediaDevices;
    const real = md.getUserMedia.bind(md);
    const asked: unknown[] = [];
    (window as unknown as { __asked: unknown[] }).__asked = asked;
    md.enumerateDevices = async () =>
      [
        { kind: 'videoinput', deviceId: 'cam-1', label: 'Front camera', groupId: 'a' },
        { kind: 'videoinput', deviceId: 'cam-2', label: 'Back camera', groupId: 'b' },
      ] as MediaDeviceInfo[];
    md.getUserMedia = async (c?: MediaStreamConstraints) => {
      asked.push(c);
      return real({ video: true });
    };
  });
  await openApp(page);
  await page.getByRole('button', { name: 'Use camera' }).click();
  const picker = page.getByLabel('Camera', { exact: true });
  await expect(picker.locator('option')).toHaveText(['Front camera', 'Back camera']);
  await picker.selectOption({ label: 'Back camera' });
  await expect.poll(() => page.evaluate(() => JSON.stringify((window as unknown as { __asked: unknown[] }).__asked.at(-1)))).toContain('"exact":"cam-2"');
  await expect.poll(() => seq(page), { timeout: 60_000 }).toBeGreaterThan(0);
  // the method list is the app's gradient-method list; the figure is captioned with the choice
  const methods = page.getByLabel('Live map method');
  const options = await methods.locator('option').allTextContents();
  expect(options).toEqual(expect.arrayContaining(['Grad-CAM', 'LayerCAM']));
  await methods.selectOption({ label: 'LayerCAM' });
  await expect.poll(() => page.evaluate(() => (window as unknown as { __fusionCamLive: { latest(): { method: string } | null } }).__fusionCamLive.latest()?.method), { timeout: 60_000 }).toBe('layercam');
  await expect(heatmap(page, 'LayerCAM')).toBeVisible();
  await page.getByRole('button', { name: 'Stop camera' }).click();
});
