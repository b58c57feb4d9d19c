/**
 * Issue 4 in the browser: the layer picker (every candidate layer with a Grad-CAM thumbnail,
 * picking one re-runs the explanation), a user's own model through the "Model files" input
 * (a generated branching ResNet-like model: predictions, Grad-CAM, Score-CAM, Fusion-CAM), a
 * truncated shard (one clear message, the previous model keeps working), labels rendered as text,
 * and a TF.js GraphModel folder with its plain-language limits.
 */
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED, canvasPixels, chooseFile, expectBetas, figure, heatmap, meanAbsDiff, openApp, openGroup, photo, pixelSpread, pixelsOf, snap, watchConsole } from './helpers';

const XSS_LABEL = '<img src=x onerror=alert(1)>';
let dir = '';

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusion-cam-models-'));
  execFileSync('npx', ['tsx', path.join('e2e', 'fixtures', 'makeModels.ts'), dir], { stdio: 'pipe', timeout: 120_000 });
});

test.afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const files = (folder: string) => fs.readdirSync(folder).map((f) => path.join(folder, f));

/** RGBA pixels of one layer thumbnail. */
async function thumbPixels(page: Page, layer: string): Promise<Uint8Array> {
  const thumb = page.getByRole('img', { name: `Grad-CAM thumbnail at ${layer}`, exact: true });
  // thumbnails are drawn from a queue after their map arrives (on-screen ones first)
  await expect(thumb).toHaveAttribute('data-drawn', 'map');
  return pixelsOf(thumb);
}

/** The activation layers of a Keras topology, read straight from model.json. */
function activationLayers(modelJson: string): string[] {
  const j = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { modelTopology: { model_config?: { config: { layers: { class_name: string; config: { name: string } }[] } } } };
  return j.modelTopology
    .model_config!.config.layers.filter((l) => ['ReLU', 'Activation'].includes(l.class_name) && !l.config.name.includes('softmax'))
    .map((l) => l.config.name);
}

test('layer picker: every MobileNet layer with a Grad-CAM thumbnail; picking an earlier layer re-runs Grad-CAM there', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await chooseFile(page, photo('dog.jpg'));
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').first()).toHaveAccessibleName('malamute');
  const group = page.getByRole('radiogroup', { name: 'Layer' });
  // every ReLU of the network is offered, with its op and h×w×K shape, the default checked
  const relus = activationLayers(path.join(SHARED, 'models', 'mobilenet_v1_0.25_224', 'model.json'));
  expect(relus).toHaveLength(27);
  for (const name of relus) await expect(group.getByRole('radio', { name: new RegExp(`^${name}, `) })).toHaveCount(1);
  await expect(group.getByRole('radio', { name: 'conv_pw_13_relu, Activation · 7×7×256, default' })).toBeChecked();
  await expect(group.getByRole('radio', { name: /^conv_pw_5_relu, Activation · 28×28×64$/ })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Grad-CAM heatmap for malamute', exact: true })).toBeVisible();
  const grad0 = await canvasPixels(page, 'Grad-CAM');
  // Score-CAM is not needed here: cancel it if it is still running (on two cores it may be done)
  await page.getByRole('button', { name: 'Cancel' }).click({ timeout: 2_000 }).catch(() => undefined);
  // thumbnails fill in; none left pending, none failed
  await expect(page.locator('.layer-list canvas[data-state="pending"]')).toHaveCount(0, { timeout: 90_000 });
  await expect(page.locator('.layer-list canvas[data-state="error"]')).toHaveCount(0);
  const deep = await thumbPixels(page, 'conv_pw_13_relu');
  const early = await thumbPixels(page, 'conv_pw_5_relu');
  const mid = await thumbPixels(page, 'conv_pw_11_relu');
  for (const t of [deep, early, mid]) expect(pixelSpread(t)).toBeGreaterThan(10);
  // the explanation changes with depth: the thumbnails are different maps over the same photo
  expect(meanAbsDiff(deep, early)).toBeGreaterThan(2);
  expect(meanAbsDiff(deep, mid)).toBeGreaterThan(2);
  await snap(page, testInfo, 'layer picker');

  // keyboard: from the checked layer, arrow keys move the choice (a radio group)
  const checked = group.getByRole('radio', { checked: true });
  await checked.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(group.getByRole('radio', { name: 'conv_pw_13_relu, Activation · 7×7×256, default' })).not.toBeChecked();
  await expect.poll(() => new URL(page.url()).searchParams.get('layer')).toBe('conv_pw_13_bn');

  // pick an earlier layer by clicking its tile: Grad-CAM is recomputed there
  await page.locator('label.layer-option').filter({ has: page.getByRole('radio', { name: /^conv_pw_5_relu,/ }) }).click();
  await expect(group.getByRole('radio', { name: /^conv_pw_5_relu,/ })).toBeChecked();
  await expect.poll(() => new URL(page.url()).searchParams.get('layer')).toBe('conv_pw_5_relu');
  await expect.poll(async () => meanAbsDiff(grad0, await canvasPixels(page, 'Grad-CAM')), { timeout: 30_000 }).toBeGreaterThan(2);
  // the header line names the layer the maps come from
  await expect(page.getByTestId('results-title')).toContainText('conv_pw_5_relu');
  await snap(page, testInfo, 'earlier layer');
  consoleWatch.assertClean();
});

test('a generated ResNet-like model through "Model files": predictions, Grad-CAM, Score-CAM, Fusion-CAM; labels shown as text', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await openGroup(page, 'Your own model');
  await page.getByLabel('Model files').setInputFiles(files(path.join(dir, 'resnet_like')));
  await expect(page.getByTestId('model-name')).toHaveText('resnet_like', { timeout: 30_000 });
  await expect(page.getByTestId('model-input-size')).toHaveText('64×64 RGB');
  await expect(page.getByText('5 class names from labels.txt')).toBeVisible();
  // not a recognised family: the guess says so, and the preprocessing can be changed
  await expect(page.getByTestId('preprocessing-guess')).toContainText('only a guess');
  await expect(page.getByLabel('Preprocessing')).toHaveValue('unit');
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('custom:resnet_like');
  // the picker lists the branching model's layers, including those inside the residual blocks
  const group = page.getByRole('radiogroup', { name: 'Layer' });
  await expect(group.getByRole('radio', { name: /^res1_add, Add · 32×32×8/ })).toHaveCount(1);
  await expect(group.getByRole('radio', { name: /^res3_out, / })).toBeChecked();
  await chooseFile(page, photo('dog.jpg'));

  // all five classes are listed (top-5 of 5), the HTML-looking label as plain characters
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5).toHaveCount(5);
  await expect(top5.filter({ hasText: XSS_LABEL })).toHaveCount(1);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);

  // Fusion-CAM ran: its β values are listed (the random net may add a warning about them)
  await expectBetas(page, /^β_g -?\d/, 60_000);
  const px = await Promise.all(['Grad-CAM', 'Score-CAM'].map((p) => canvasPixels(page, p)));
  for (const p of px) expect(pixelSpread(p)).toBeGreaterThan(10);
  expect(meanAbsDiff(px[0], px[1])).toBeGreaterThan(0.5);

  // the explanation of the XSS-named class: its name is text in the heatmap's label too
  await top5.filter({ hasText: XSS_LABEL }).click();
  await expect(page.getByRole('img', { name: `Grad-CAM heatmap for ${XSS_LABEL}`, exact: true })).toBeVisible();
  await expect(page.locator('.layer-list canvas[data-state="pending"]')).toHaveCount(0, { timeout: 60_000 });

  // changing the preprocessing needs no reload: new predictions from the same model
  const probs0 = await top5.allInnerTexts();
  await page.getByLabel('Preprocessing').selectOption('raw');
  await expect(page.getByTestId('preprocessing-guess')).toHaveCount(0);
  await expect.poll(async () => (await top5.allInnerTexts()).join('|'), { timeout: 30_000 }).not.toBe(probs0.join('|'));
  await expect(page.getByTestId('model-name')).toHaveText('resnet_like');
  await snap(page, testInfo, 'resnet-like model');
  expect(dialogs).toEqual([]);
  consoleWatch.assertClean();
});

test('a truncated shard: one clear message and the previous model keeps working', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await openGroup(page, 'Your own model');
  await chooseFile(page, photo('dog.jpg'));
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5.first()).toHaveAccessibleName('malamute');
  await page.getByRole('button', { name: 'Cancel' }).click({ timeout: 2_000 }).catch(() => undefined); // not needed; may be done
  // dropped on the model drop zone (a synthetic drop, as from the desktop)
  const folder = path.join(dir, 'resnet_truncated');
  const payload = fs.readdirSync(folder).map((f) => ({ name: f, b64: fs.readFileSync(path.join(folder, f)).toString('base64') }));
  await page.getByTestId('model-drop-zone').evaluate((zone, payload) => {
    const dt = new DataTransfer();
    for (const { name, b64 } of payload) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
  const alert = page.getByTestId('model-error');
  const need = fs.statSync(path.join(dir, 'resnet_like', 'group1-shard1of1.bin')).size;
  await expect(alert).toContainText(`Weight file "group1-shard1of1.bin" holds ${need - 100} bytes but the manifest's shapes need ${need}: truncated`);
  await expect(alert).toHaveAttribute('role', 'alert');
  // nothing lost: same model, same image, and it still explains a new class and a new image
  await expect(page.getByTestId('model-name')).toHaveText('MobileNet v1 0.25 (224)');
  await expect(page.getByLabel('Model', { exact: true })).toHaveValue('mobilenet_v1_0.25_224');
  await expect(top5.first()).toHaveAccessibleName('malamute');
  await expect(page.getByText(/^Drop the image/)).toHaveCount(0);
  const grad0 = await canvasPixels(page, 'Grad-CAM');
  await top5.nth(1).click();
  await expect.poll(async () => meanAbsDiff(grad0, await canvasPixels(page, 'Grad-CAM')), { timeout: 30_000 }).toBeGreaterThan(0.5);
  await snap(page, testInfo, 'truncated shard');
  consoleWatch.assertClean();
});

test('a layer whose activations overflow to Infinity: every map says so, nothing is drawn or exported, another layer works', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await openGroup(page, 'Your own model');
  await page.getByLabel('Model files').setInputFiles(files(path.join(dir, 'overflowing')));
  await expect(page.getByTestId('model-name')).toHaveText('overflowing', { timeout: 30_000 });
  await chooseFile(page, photo('dog.jpg'));
  // the head clips the overflow, so predictions are finite and listed
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button')).toHaveCount(3);
  await page.locator('label.layer-option').filter({ has: page.getByRole('radio', { name: /^overflow_relu,/ }) }).click();
  const said = /activations at layer overflow_relu contain \d+ NaN or infinite values \(of 4096\)/;
  await expect(figure(page, 'Grad-CAM')).toContainText(said, { timeout: 30_000 });
  await expect(figure(page, 'Score-CAM')).toContainText(said);
  // nothing drawn over the photo: each panel shows the photo alone, and nothing to export
  const photoPx = await figure(page, 'Input').getByRole('img').evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 64, 64).data));
  for (const panel of ['Grad-CAM', 'Score-CAM', 'Fusion-CAM']) {
    const px = await heatmap(page, panel).evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 64, 64).data));
    expect(meanAbsDiff(Uint8Array.from(px), Uint8Array.from(photoPx)), panel).toBeLessThan(1);
    await expect(figure(page, panel).getByRole('button', { name: 'Export PNG' })).toBeDisabled();
  }
  await expect(page.locator('body')).not.toContainText(/\bNaN\b(?! or infinite)/);
  await snap(page, testInfo, 'overflowing layer');
  // the clipped layer after it is finite: maps again
  await page.locator('label.layer-option').filter({ has: page.getByRole('radio', { name: /^clip6,/ }) }).click();
  await expect(figure(page, 'Grad-CAM')).not.toContainText(said, { timeout: 30_000 });
  await expectBetas(page, /^β_g /, 60_000);
  consoleWatch.assertClean();
});

test('a GraphModel folder: loads, predicts, and says plainly what does and does not work', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await openGroup(page, 'Your own model');
  await page.getByLabel('Model folder').setInputFiles(path.join(SHARED, 'models', 'mobilenet_v1_0.25_224_graph'));
  await expect(page.getByTestId('model-name')).toHaveText('mobilenet_v1_0.25_224_graph', { timeout: 60_000 });
  await expect(page.getByText('TF.js GraphModel · your files')).toBeVisible();
  const limits = page.getByRole('note').filter({ hasText: 'GraphModel limits' });
  await expect(limits).toContainText('Graphs with control flow do not run');
  await expect(limits).toContainText('Score-CAM does (it needs only forward passes)');
  await expect(page.getByText(/1001 outputs: ImageNet names with "background"/)).toBeVisible();
  await expect(page.getByLabel('Preprocessing')).toHaveValue('unit');
  const group = page.getByRole('radiogroup', { name: 'Layer' });
  await expect(group.getByRole('radio')).toHaveCount(27);
  await expect(group.getByRole('radio', { name: /Conv2d_13_pointwise\/Relu6, Relu6 · 7×7×256, default$/ })).toBeChecked();
  await chooseFile(page, photo('dog.jpg'));
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5).toHaveCount(5);
  await expect(top5.first()).toHaveAccessibleName(/malamute|husky|Eskimo dog/);
  await expect(page.getByRole('img', { name: /^Grad-CAM heatmap for / })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Score-CAM heatmap for / })).toBeVisible({ timeout: 60_000 });
  await snap(page, testInfo, 'graph model');
  consoleWatch.assertClean();
});

test('offline: a model loaded once comes from the browser cache on the next visit, without the network', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm');
  await openGroup(page, 'Your own model');
  await expect(page.getByTestId('model-name')).toHaveText('MobileNet v1 0.25 (224)');
  await expect(page.getByText('TF.js LayersModel · ready-made model', { exact: true })).toBeVisible();
  // the next visit: every model request fails as if offline
  const modelRequests: string[] = [];
  await page.route('**/models/**', (route) => {
    modelRequests.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  await page.reload({ waitUntil: 'commit' });
  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
  await openGroup(page, 'Your own model');
  await expect(page.getByText('TF.js LayersModel · ready-made model · from the offline cache')).toBeVisible();
  // only model.json was tried (network first); no weight file was requested
  expect(modelRequests.length).toBeGreaterThan(0);
  expect(modelRequests.filter((u) => !u.endsWith('/model.json'))).toEqual([]);
  await chooseFile(page, photo('dog.jpg'));
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').first()).toHaveAccessibleName('malamute');
  // the failed model.json request is the network's doing, not the app's: no other console errors
  expect(consoleWatch.errors.filter((e) => !/model\.json|ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e))).toEqual([]);
});

test('model URL: refused schemes and a 404 get one line each; a same-origin URL loads, with its preprocessing recognised', async ({ page }) => {
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm');
  await openGroup(page, 'Your own model');
  // every registry model is offered: the four MobileNet widths and Darknet-tiny (a local folder is configured here)
  const options = page.getByLabel('Model', { exact: true }).locator('option');
  await expect(options).toHaveText([/^MobileNet v1 0\.25 /, /^MobileNet v1 0\.50 /, /^MobileNet v1 0\.75 /, /^MobileNet v1 1\.0 /, /^Darknet tiny /]);
  await expect(options.filter({ hasText: 'Darknet tiny' })).toBeEnabled();
  const url = page.getByLabel('Model URL');
  const load = page.getByRole('button', { name: 'Load model' });
  await url.fill('http://example.com/model.json');
  await load.click();
  await expect(page.getByTestId('model-error')).toContainText('Models are loaded only over https or from this site; refusing http://example.com');
  await url.fill('/models/no-such-model/model.json');
  await load.click();
  await expect(page.getByTestId('model-error')).toContainText(/model\.json not found \(HTTP 404\): http:\/\/localhost:\d+\/models\/no-such-model\/model\.json/);
  await expect(page.getByTestId('model-name')).toHaveText('MobileNet v1 0.25 (224)');
  await url.fill('/models/mobilenet_v1_0.25_224/model.json');
  await load.click();
  await expect(page.getByTestId('model-name')).toHaveText('mobilenet_v1_0.25_224', { timeout: 60_000 });
  await expect(page.getByTestId('model-error')).toHaveCount(0);
  await expect(page.getByText('TF.js LayersModel · from a URL')).toBeVisible();
  await expect(page.getByTestId('preprocessing-guess')).toContainText('Keras MobileNet');
  await expect(page.getByLabel('Preprocessing')).toHaveValue('mobilenet');
  await expect(page.getByTestId('model-default-layer')).toHaveText('conv_pw_13_relu');
  await chooseFile(page, photo('dog.jpg'));
  // no labels came with it: the classes are numbered (MobileNet's malamute is class 249)
  await expect(page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').first()).toHaveAccessibleName('class 249');
  consoleWatch.assertClean();
});
