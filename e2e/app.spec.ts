import { test, expect } from '@playwright/test';
import {
  canvasPixels,
  chooseFile,
  downloads,
  dropFile,
  figure,
  forwardPasses,
  heatmap,
  meanAbsDiff,
  openApp,
  photo,
  pixelSpread,
  pngSize,
  setSlider,
  snap,
  waitForFusion,
  watchConsole,
  expectBetas,
} from './helpers';

const PANELS = ['Grad-CAM', 'Score-CAM', 'Fusion-CAM'];

test('file input: predictions, then three different, non-blank heatmaps', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  // opacity 1: the canvases show the colormapped maps alone, so "not blank" means the map varies
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await expect(page.getByTestId('backend-in-use')).toHaveText(/wasm/);
  // cross-origin isolated, so tfjs picks the threaded SIMD build (docs/platform-notes.md note 1 is fixed in the production build)
  expect(await page.evaluate(() => (window as unknown as { __fusionCam: { crossOriginIsolated: boolean } }).__fusionCam.crossOriginIsolated)).toBe(true);
  expect(requests.some((u) => /tfjs-backend-wasm-threaded-simd-[\w-]+\.wasm$/.test(u))).toBe(true);
  await snap(page, testInfo, 'empty');
  await chooseFile(page, photo('dog.jpg'));
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5).toHaveCount(5);
  await expect(top5.first()).toHaveAccessibleName('malamute');
  await expect(page.getByRole('img', { name: 'Grad-CAM heatmap for malamute', exact: true })).toBeVisible();
  await waitForFusion(page);
  // a second engine worker scored part of the channels (tfjs wasm runs one thread per two cores)
  await expect(figure(page, 'Score-CAM')).toContainText(/\d+\.\d s · \d+ masked passes \(\d+ on a second worker\)/);
  await expect(page.getByRole('img', { name: 'Fusion-CAM heatmap for malamute', exact: true })).toBeVisible();
  const px = await Promise.all(PANELS.map((p) => canvasPixels(page, p)));
  for (const p of px) expect(pixelSpread(p)).toBeGreaterThan(10);
  // each panel shows a different map over the same photo
  expect(meanAbsDiff(px[0], px[1])).toBeGreaterThan(1);
  expect(meanAbsDiff(px[0], px[2])).toBeGreaterThan(1);
  expect(meanAbsDiff(px[1], px[2])).toBeGreaterThan(1);
  // drawn at the photo's aspect ratio (768×576)
  const box = await heatmap(page, 'Fusion-CAM').boundingBox();
  expect(box!.width / box!.height).toBeCloseTo(768 / 576, 1);
  await expectBetas(page, /^β_g -?\d/);
  await setSlider(page, 'Overlay opacity', 0.5);
  await snap(page, testInfo, 'all panels');
  // the model and everything else came from the app's own origin; the image never left the page
  expect(requests.filter((u) => !u.startsWith('http://localhost:') && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  expect(requests.some((u) => u.includes('/models/mobilenet_v1_0.25_224/model.json'))).toBe(true);
  consoleWatch.assertClean();
});

test('synthetic drop loads an image anywhere on the page', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await dropFile(page, photo('eagle.jpg'));
  await expect(figure(page, 'Input').getByText(/eagle\.jpg · 773×512/)).toBeVisible();
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5).toHaveCount(5);
  await expect(heatmap(page, 'Grad-CAM')).toHaveAccessibleName(/^Grad-CAM heatmap for \S/);
  await waitForFusion(page);
  await snap(page, testInfo, 'dropped eagle');
  consoleWatch.assertClean();
});

test('θ re-runs two forward passes and changes only Fusion-CAM; τ, opacity, colormap, scale run none', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  // without θ scored ahead on the helper, so the spec's cost of a θ change is what runs
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&thetaAhead=0');
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  const grad0 = await canvasPixels(page, 'Grad-CAM');
  const fusion0 = await canvasPixels(page, 'Fusion-CAM');
  const passes0 = await forwardPasses(page);

  await setSlider(page, 'Denoise θ', 60);
  await expect(figure(page, 'Fusion-CAM').getByText('θ 60')).toBeVisible();
  const fusion1 = await canvasPixels(page, 'Fusion-CAM');
  expect(meanAbsDiff(fusion0, fusion1)).toBeGreaterThan(0.5);
  expect(meanAbsDiff(grad0, await canvasPixels(page, 'Grad-CAM'))).toBe(0);
  // docs/method.md §3: changing θ costs β_g and β_dr, two batch-1 forward passes
  expect((await forwardPasses(page)) - passes0).toBe(2);

  const passes1 = await forwardPasses(page);
  await setSlider(page, 'Agreement tolerance τ', 0.05);
  await expect(figure(page, 'Fusion-CAM').getByText('τ 0.05')).toBeVisible();
  await expect.poll(async () => meanAbsDiff(fusion1, await canvasPixels(page, 'Fusion-CAM'))).toBeGreaterThan(0.5);
  await setSlider(page, 'Overlay opacity', 0.8);
  await page.getByLabel('Colormap').selectOption('viridis');
  await page.getByLabel('Scale').selectOption('shared');
  await expect.poll(async () => meanAbsDiff(grad0, await canvasPixels(page, 'Grad-CAM'))).toBeGreaterThan(1);
  expect(await forwardPasses(page)).toBe(passes1);
  await snap(page, testInfo, 'theta 60, tau 0.05, viridis');

  // keyboard: the slider moves with the arrow keys
  const theta = page.getByLabel('Denoise θ', { exact: true });
  await theta.focus();
  await page.keyboard.press('ArrowRight');
  await expect(theta).toHaveValue('61');
  await expect(figure(page, 'Fusion-CAM').getByText('θ 61')).toBeVisible();
  // the URL mirrors the settings and a reload restores them
  await expect.poll(() => new URL(page.url()).searchParams.get('theta')).toBe('61');
  await expect.poll(() => new URL(page.url()).searchParams.get('colormap')).toBe('viridis');
  await page.reload({ waitUntil: 'commit' });
  // θ and τ sit in the Fusion-CAM figure, which exists once there is a photo
  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
  await chooseFile(page, photo('dog.jpg'));
  await expect(page.getByLabel('Denoise θ', { exact: true })).toHaveValue('61');
  await expect(page.getByLabel('Colormap')).toHaveValue('viridis');
  await expect(page.getByLabel('Agreement tolerance τ', { exact: true })).toHaveValue('0.05');
  await expect(page.getByLabel('Scale')).toHaveValue('shared');
  consoleWatch.assertClean();
});

test('θ scored ahead: once the helper has every θ, moving θ runs no forward pass and shows what computing it on demand shows', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  const thetasReady = () => page.evaluate(() => (window as unknown as { __fusionCam: { thetasReady: number } }).__fusionCam.thetasReady);
  await openApp(page);
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  await expect.poll(thetasReady, { timeout: 60_000 }).toBe(100);
  await expect(page.getByText('Every value is ready: moving it is instant.')).toBeVisible();
  const passes = await forwardPasses(page);
  const ahead: Record<number, Uint8Array> = {};
  for (const theta of [37, 80, 0]) {
    await setSlider(page, 'Denoise θ', theta);
    await expect(figure(page, 'Fusion-CAM').getByText(`θ ${theta} `)).toBeVisible();
    ahead[theta] = await canvasPixels(page, 'Fusion-CAM');
  }
  expect(await forwardPasses(page)).toBe(passes);

  // the same θ computed on demand, in a page that scores nothing ahead
  await page.goto('/?model=mobilenet_v1_0.25_224&backend=wasm&thetaAhead=0', { waitUntil: 'commit' });
  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  for (const theta of [37, 80, 0]) {
    const before = await forwardPasses(page);
    await setSlider(page, 'Denoise θ', theta);
    await expect(figure(page, 'Fusion-CAM').getByText(`θ ${theta} `)).toBeVisible();
    expect((await forwardPasses(page)) - before).toBe(2);
    expect(meanAbsDiff(ahead[theta], await canvasPixels(page, 'Fusion-CAM')), `θ ${theta}`).toBeLessThan(0.05);
  }
  expect(await thetasReady()).toBeLessThanOrEqual(1);
  consoleWatch.assertClean();
});

test('clicking a class re-targets every map', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  const before = await Promise.all(PANELS.map((p) => canvasPixels(page, p)));
  const second = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').nth(1);
  const name = (await second.getAttribute('aria-label'))!;
  await second.click();
  await expect(second).toHaveAttribute('aria-pressed', 'true');
  for (const p of PANELS) await expect(page.getByRole('img', { name: `${p} heatmap for ${name}`, exact: true })).toBeVisible();
  await waitForFusion(page);
  const after = await Promise.all(PANELS.map((p) => canvasPixels(page, p)));
  for (let i = 0; i < PANELS.length; i++) expect(meanAbsDiff(before[i], after[i]), PANELS[i]).toBeGreaterThan(0.5);
  await snap(page, testInfo, `retargeted to ${name}`);
  consoleWatch.assertClean();
});

test('export: PNG at the photo’s original size, its JSON sidecar from its own button, and the composite', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await chooseFile(page, photo('kite.jpg')); // 1352×900, larger than the on-screen copy
  await waitForFusion(page);
  await setSlider(page, 'Denoise θ', 25);
  await expect(figure(page, 'Fusion-CAM').getByText('θ 25')).toBeVisible();
  // one file per click (issue 14, defect 10): the PNG, then the JSON sidecar from its own button
  const [png] = await downloads(page, 1, () => figure(page, 'Fusion-CAM').getByRole('button', { name: 'Export PNG' }).click());
  const [json] = await downloads(page, 1, () => figure(page, 'Fusion-CAM').getByRole('button', { name: 'Export JSON' }).click());
  expect(png.name).toMatch(/\.png$/);
  expect(json.name).toMatch(/\.json$/);
  expect(pngSize(png.body)).toEqual({ width: 1352, height: 900 });
  const meta = JSON.parse(json.body.toString('utf8'));
  expect(meta.theta).toBe(25);
  expect(meta.tau).toBe(1);
  expect(meta.method).toBe('Fusion-CAM');
  expect(meta.model.id).toBe('mobilenet_v1_0.25_224');
  expect(meta.layer).toBe('conv_pw_13_relu');
  expect(meta.class.index).toEqual(expect.any(Number));
  expect(meta.class.probability).toBeGreaterThan(0);
  expect(Number.isFinite(meta.betas.combined)).toBe(true);
  expect(meta.appVersion).toMatch(/^\d+\.\d+\.\d+/);
  expect(new Date(meta.time).toISOString()).toBe(meta.time);

  const input = await downloads(page, 1, () => figure(page, 'Input').getByRole('button', { name: 'Export PNG' }).click());
  expect(pngSize(input.find((f) => f.name.endsWith('.png'))!.body)).toEqual({ width: 1352, height: 900 });

  const all = await downloads(page, 1, () => page.getByRole('button', { name: 'Export all' }).click());
  const composite = pngSize(all.find((f) => f.name.endsWith('.png'))!.body);
  expect(composite.width).toBeGreaterThan(composite.height * 2); // four panels side by side
  consoleWatch.assertClean();
});

test('a file that is not an image gets a clear message and the app stays usable', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await page.getByLabel('Image file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, not an image') });
  await expect(page.getByRole('alert').filter({ hasText: /not an image/ })).toBeVisible();
  await chooseFile(page, photo('dog.jpg'));
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button')).toHaveCount(5);
  await expect(page.getByRole('alert').filter({ hasText: /not an image/ })).toHaveCount(0);
  consoleWatch.assertClean();
});

test('dropping images in quick succession shows only the last one', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  // kite alone, for reference
  await dropFile(page, photo('kite.jpg'));
  await waitForFusion(page);
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  const expected = await top5.allTextContents();
  for (const f of ['dog.jpg', 'eagle.jpg', 'giraffe.jpg', 'horses.jpg', 'person.jpg', 'scream.jpg', 'dog.jpg', 'eagle.jpg', 'horses.jpg', 'kite.jpg']) {
    await dropFile(page, photo(f));
  }
  await expect(figure(page, 'Input').getByText(/kite\.jpg · 1352×900/)).toBeVisible();
  await waitForFusion(page);
  expect(await top5.allTextContents()).toEqual(expected);
  consoleWatch.assertClean();
});

test('manual contribution weights and the keyboard: γ re-weights Fusion-CAM, top-5 works with Enter', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  const gamma = page.getByLabel('Gradient share γ');
  await expect(gamma).toBeDisabled();
  const fusion0 = await canvasPixels(page, 'Fusion-CAM');
  await page.getByLabel('Contribution weights').selectOption('manual');
  await expect(gamma).toBeEnabled();
  await setSlider(page, 'Gradient share γ', 0.9);
  await expectBetas(page, /step 3 weights 0\.900 \/ 0\.100/);
  expect(meanAbsDiff(fusion0, await canvasPixels(page, 'Fusion-CAM'))).toBeGreaterThan(0.5);
  await expect.poll(() => new URL(page.url()).searchParams.get('weights')).toBe('0.9');

  // keyboard only: Tab to the third prediction and press Enter
  const third = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').nth(2);
  const name = (await third.getAttribute('aria-label'))!;
  await third.focus();
  await page.keyboard.press('Enter');
  await expect(third).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('img', { name: `Grad-CAM heatmap for ${name}`, exact: true })).toBeVisible();
  await waitForFusion(page);
  // no tensors left behind by the runs so far: the count after a run is the session's own few tensors
  const tensors = await page.evaluate(() => (window as unknown as { __fusionCam: { numTensors: number | null } }).__fusionCam.numTensors);
  expect(tensors).not.toBeNull();
  consoleWatch.assertClean();
});

test('a model that cannot be loaded gets one clear message', async ({ page }) => {
  await page.goto('/?model=mobilenet_v1_0.25_224&backend=wasm&models=/models/no-such-folder/', { waitUntil: 'commit' });
  await expect(page.getByRole('alert').filter({ hasText: /model\.json (could not be downloaded|not found) .*HTTP 404/ })).toBeVisible({ timeout: 30_000 });
  // a folder outside the served one: the dev/preview server answers with the app's page
  await page.goto('/?model=mobilenet_v1_0.25_224&backend=wasm&models=/elsewhere/', { waitUntil: 'commit' });
  await expect(page.getByRole('alert').filter({ hasText: /model\.json could not be found .*web page|model\.json is not JSON \(an HTML page\?\)/ })).toBeVisible({ timeout: 30_000 });
});
