import { expect, type Page, type TestInfo } from '@playwright/test';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? path.resolve(here, '../../shared'));
export const photo = (name: string) => path.join(SHARED, 'images', 'photos', name);

/** Collects console errors and uncaught page errors; `assertClean` fails the test on any. */
export function watchConsole(page: Page): { errors: string[]; assertClean(): void } {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text().slice(0, 500)}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message.slice(0, 500)}`));
  return {
    errors,
    assertClean() {
      expect(errors, errors.join('\n')).toEqual([]);
    },
  };
}

/** Opens the app and waits for the model (pitfall 9: no waiting for `load`). */
export async function openApp(page: Page, query = 'model=mobilenet_v1_0.25_224&backend=wasm'): Promise<void> {
  await page.goto(`/?${query}`, { waitUntil: 'commit' });
  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
}

export async function chooseFile(page: Page, file: string): Promise<void> {
  await page.getByLabel('Image file').setInputFiles(file);
}

/** Drops a file on the page through a synthetic DataTransfer, as a drag from the desktop would. */
export async function dropFile(page: Page, file: string, mime = 'image/jpeg'): Promise<void> {
  const b64 = fs.readFileSync(file).toString('base64');
  await page.evaluate(
    ({ b64, name, mime }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: mime }));
      const target = document.querySelector('main') ?? document.body;
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    },
    { b64, name: path.basename(file), mime },
  );
}

export function figure(page: Page, caption: string) {
  return page.getByRole('figure', { name: caption, exact: true });
}

export function heatmap(page: Page, caption: string) {
  return figure(page, caption).getByRole('img', { name: new RegExp(`^${caption} heatmap`) });
}

/** RGBA pixels of a canvas, summarised: a hash-free copy of the bytes (small canvases only). */
export async function canvasPixels(page: Page, caption: string): Promise<number[]> {
  return heatmap(page, caption).evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
  });
}

export function meanAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Per-channel standard deviation over RGB: 0 for a blank canvas. */
export function pixelSpread(px: number[]): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      sum += px[i + c];
      sq += px[i + c] * px[i + c];
      n++;
    }
  }
  const m = sum / n;
  return Math.sqrt(sq / n - m * m);
}

export async function waitForFusion(page: Page, timeout = 90_000): Promise<void> {
  await expect(figure(page, 'Fusion-CAM').getByText(/β_g/)).toBeVisible({ timeout });
}

export async function forwardPasses(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __fusionCam: { forwardPasses: number } }).__fusionCam.forwardPasses);
}

export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
}
