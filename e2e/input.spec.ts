import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { DECODE_OPTIONS } from '../src/worker/decodeImage';
import { canvasPixels, chooseFile, figure, heatmap, meanAbsDiff, openApp, photo, snap, waitForFusion, watchConsole } from './helpers';

/** A JPEG whose left half is red and right half blue, with an EXIF orientation tag. */
function jpegWithOrientation(width: number, height: number, orientation: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const left = x < width / 2;
      data[o] = left ? 230 : 20;
      data[o + 1] = 20;
      data[o + 2] = left ? 20 : 230;
      data[o + 3] = 255;
    }
  const body = jpeg.encode({ data, width, height }, 95).data;
  // APP1 "Exif\0\0" + little-endian TIFF with one IFD entry: Orientation (0x0112), SHORT, 1
  const tiff = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const exif = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif]);
  return Buffer.concat([body.subarray(0, 2), app1, body.subarray(2)]);
}

test('EXIF orientation is applied', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  // orientation 6 = rotate 90° clockwise: a 96×48 left-red/right-blue image shows as 48×96, red on top
  await page.getByLabel('Image file').setInputFiles({ name: 'rotated.jpg', mimeType: 'image/jpeg', buffer: jpegWithOrientation(96, 48, 6) });
  await expect(figure(page, 'Input').getByText('rotated.jpg · 48×96')).toBeVisible();
  const px = await figure(page, 'Input')
    .getByRole('img')
    .evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const at = (x: number, y: number) => Array.from(d.subarray((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 3));
      return { w: canvas.width, h: canvas.height, top: at(canvas.width >> 1, 5), bottom: at(canvas.width >> 1, canvas.height - 6) };
    });
  expect(px.h).toBeGreaterThan(px.w);
  expect(px.top[0]).toBeGreaterThan(150); // red on top
  expect(px.bottom[2]).toBeGreaterThan(150); // blue at the bottom
  await waitForFusion(page);
  await snap(page, testInfo, 'exif rotated');
  consoleWatch.assertClean();
});

test('paste from the clipboard and an image URL both load images', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  const b64 = fs.readFileSync(photo('eagle.jpg')).toString('base64');
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.png', { type: 'image/jpeg' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64);
  await expect(figure(page, 'Input').getByText(/pasted-image\.png · 773×512/)).toBeVisible();
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button')).toHaveCount(5);

  // an image URL (answered here by the test, so nothing leaves the machine)
  await page.route('https://images.example.test/**', (route) =>
    route.request().url().endsWith('/giraffe.jpg')
      ? route.fulfill({ path: photo('giraffe.jpg'), headers: { 'Content-Type': 'image/jpeg', 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' } })
      : route.fulfill({ status: 404, body: 'missing', headers: { 'Access-Control-Allow-Origin': '*' } }),
  );
  await page.getByLabel('Image URL').fill('https://images.example.test/missing.jpg');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'HTTP 404' })).toBeVisible();
  await page.getByLabel('Image URL').fill('https://images.example.test/giraffe.jpg');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(figure(page, 'Input').getByText(/giraffe\.jpg · 500×500/)).toBeVisible();
  await waitForFusion(page);
  // the 404 is the browser's own console line for a failed fetch; nothing else may be logged
  expect(consoleWatch.errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
});

test('a 6000×4000 photo loads without blocking the page', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const consoleWatch = watchConsole(page);
  const file = path.join(testInfo.outputDir, 'huge.jpg');
  const W = 6000;
  const H = 4000;
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      data[o] = (x * 255) / W;
      data[o + 1] = (y * 255) / H;
      data[o + 2] = ((x + y) & 255) ^ 0x55;
      data[o + 3] = 255;
    }
  fs.mkdirSync(testInfo.outputDir, { recursive: true });
  fs.writeFileSync(file, jpeg.encode({ data, width: W, height: H }, 80).data);
  await openApp(page);
  await page.evaluate(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(Math.round(e.duration)))).observe({ type: 'longtask' });
  });
  await chooseFile(page, file);
  await expect(figure(page, 'Input').getByText(/huge\.jpg · 6000×4000/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button')).toHaveCount(5, { timeout: 60_000 });
  await expect(heatmap(page, 'Grad-CAM')).toBeVisible();
  const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  await testInfo.attach('main-thread long tasks (ms)', { body: JSON.stringify(longTasks), contentType: 'application/json' });
  // decoding and resizing happen in the worker; the long tasks are recorded above, not asserted
  // (speed is judged by `npm run bench`, not by timed tests)
  // the on-screen copy is small; the original size is what the panel reports and exports use
  const size = await figure(page, 'Input').getByRole('img').evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
  expect(Math.max(...size)).toBeLessThanOrEqual(1024);
  await waitForFusion(page);
  consoleWatch.assertClean();
});

test('intermediate maps in the pipeline picture, variant switch, backend switch', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  // the intermediate maps are the steps of the pipeline picture (issue 14)
  const pipeline = page.getByRole('region', { name: 'How Fusion-CAM is made' });
  for (const name of ['Denoised Grad-CAM', 'Combined map']) {
    const fig = pipeline.getByRole('figure', { name, exact: true });
    await expect(fig.getByRole('img', { name: `${name} heatmap`, exact: true })).toBeVisible();
  }
  await snap(page, testInfo, 'intermediate maps');

  const fusionRef = await canvasPixels(page, 'Fusion-CAM');
  await page.getByLabel('Variant').selectOption('xplain');
  // (Score-CAM re-runs; on 0.25 with two workers it may be over before a progress bar could be seen)
  await waitForFusion(page);
  await expect.poll(async () => meanAbsDiff(fusionRef, await canvasPixels(page, 'Fusion-CAM'))).toBeGreaterThan(0.2);
  await expect.poll(() => new URL(page.url()).searchParams.get('variant')).toBe('xplain');

  await page.getByLabel('Backend').selectOption('webgl');
  await expect(page.getByTestId('backend-in-use')).toHaveText(/webgl/, { timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button')).toHaveCount(5, { timeout: 60_000 });
  await expect(figure(page, 'Grad-CAM').getByText(/· class 249/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('results-title')).toHaveText(/^Explaining malamute /);
  await expect.poll(() => new URL(page.url()).searchParams.get('backend')).toBe('webgl');
  consoleWatch.assertClean();
});

/** A 24-bit BMP, bottom-up rows, of a horizontal gradient. */
function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + row * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = 54 + y * row + x * 3;
      buf[o] = (x * 255) / width; // B
      buf[o + 1] = (y * 255) / height; // G
      buf[o + 2] = 128; // R
    }
  return buf;
}

// a 2×1 GIF89a with two frames (red, then green): the first frame must be used
const GIF_2_FRAMES = Buffer.from(
  '47494638396102000100f00000ff000000ff0021ff0b4e45545343415045322e300301000000' +
    '21f90404000000002c0000000002000100000202040a00' +
    '21f90404000000002c00000000020001000002024c0a00' +
    '3b',
  'hex',
);

test('BMP, WebP and GIF (first frame) decode through the browser', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await page.getByLabel('Image file').setInputFiles({ name: 'gradient.bmp', mimeType: 'image/bmp', buffer: bmp(120, 80) });
  await expect(figure(page, 'Input').getByText('gradient.bmp · 120×80')).toBeVisible();
  await expect(figure(page, 'Grad-CAM').getByText(/· class \d+/)).toBeVisible();

  const webp = await page.evaluate(async () => {
    const c = new OffscreenCanvas(90, 60);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#3a6';
    ctx.fillRect(0, 0, 90, 60);
    ctx.fillStyle = '#d33';
    ctx.fillRect(20, 10, 40, 30);
    const b = await c.convertToBlob({ type: 'image/webp', quality: 0.9 });
    return { type: b.type, bytes: Array.from(new Uint8Array(await b.arrayBuffer())) };
  });
  expect(webp.type).toBe('image/webp');
  await page.getByLabel('Image file').setInputFiles({ name: 'shapes.webp', mimeType: 'image/webp', buffer: Buffer.from(webp.bytes) });
  await expect(figure(page, 'Input').getByText('shapes.webp · 90×60')).toBeVisible();
  await expect(figure(page, 'Grad-CAM').getByText(/· class \d+/)).toBeVisible();

  await page.getByLabel('Image file').setInputFiles({ name: 'two-frames.gif', mimeType: 'image/gif', buffer: GIF_2_FRAMES });
  await expect(figure(page, 'Input').getByText('two-frames.gif · 2×1')).toBeVisible();
  const first = await figure(page, 'Input')
    .getByRole('img')
    .evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1).data));
  expect(first[0]).toBeGreaterThan(200); // red: frame 1
  expect(first[1]).toBeLessThan(50);
  await expect(figure(page, 'Grad-CAM').getByText(/· class \d+/)).toBeVisible();
  consoleWatch.assertClean();
});

test('JPEG pixels as the app decodes them equal PIL\'s (the authors\' pipeline), on every fixture PIL decoded', async ({ page }) => {
  // fixtures made by scripts/make-jpeg-fixtures.py: tiny JPEGs of every subsampling, progressive,
  // greyscale, CMYK, restart markers, each with PIL's Image.open().convert('RGB') bytes beside it
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/node/fixtures/jpeg');
  const cases = (JSON.parse(fs.readFileSync(path.join(dir, 'fixtures.json'), 'utf8')) as { cases: { name: string; what: string }[] }).cases;
  await page.goto('/');
  let compared = 0;
  for (const c of cases) {
    // EXIF orientation: the app rotates the photo (a user expects it); PIL's open + convert does not
    if (c.name.startsWith('exif')) continue;
    const rgb = await page.evaluate(
      async ({ b64, options }) => {
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }), options);
        const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(bitmap, 0, 0);
        const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
        return Array.from(d).filter((_, i) => i % 4 !== 3);
      },
      { b64: fs.readFileSync(path.join(dir, `${c.name}.jpg`)).toString('base64'), options: DECODE_OPTIONS },
    );
    const pil = fs.readFileSync(path.join(dir, `${c.name}.rgb`));
    expect(rgb.length, c.what).toBe(pil.length);
    let max = 0;
    for (let i = 0; i < pil.length; i++) max = Math.max(max, Math.abs(rgb[i] - pil[i]));
    expect(max, c.what).toBe(0);
    compared++;
  }
  expect(compared).toBeGreaterThanOrEqual(10);
});
