import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';
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

/** Opens the app and waits for the model (docs/platform-notes.md note 9: no waiting for `load`). */
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

/** Opens a settings group (a disclosure in the studio; some start closed) if it is closed. */
export async function openGroup(page: Page, title: string): Promise<void> {
  const group = page.locator('details.group').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
  if (!(await group.evaluate((d) => (d as HTMLDetailsElement).open))) await group.locator('summary').click();
}

export function figure(page: Page, caption: string) {
  return page.getByRole('figure', { name: caption, exact: true });
}

export function heatmap(page: Page, caption: string) {
  return figure(page, caption).getByRole('img', { name: new RegExp(`^${caption} heatmap`) });
}

/** RGBA pixels of a panel's canvas. */
export async function canvasPixels(page: Page, caption: string): Promise<Uint8Array> {
  return pixelsOf(heatmap(page, caption));
}

/** RGBA pixels of the canvas a locator finds (moved as base64: a 768×576 canvas is 1.7 MB). */
export async function pixelsOf(canvasLocator: Locator): Promise<Uint8Array> {
  const b64 = await canvasLocator.evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, canvas.width, canvas.height).data;
    let s = '';
    for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Per-channel standard deviation over RGB: 0 for a blank canvas. */
export function pixelSpread(px: Uint8Array): number {
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

/** Waits until the Fusion-CAM panel shows a finished map (its data-state; β live in the pipeline's details). */
export async function waitForFusion(page: Page, timeout = 90_000): Promise<void> {
  await expect(figure(page, 'Fusion-CAM')).toHaveAttribute('data-state', /^(done|flat)$/, { timeout });
}

export async function forwardPasses(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __fusionCam: { forwardPasses: number } }).__fusionCam.forwardPasses);
}

export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await testInfo.attach(name.replace(/[^\w -]+/g, '_'), { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
}

/** Width and height from a PNG's IHDR, after checking the signature. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  expect([...buf.subarray(0, 8)]).toEqual(sig);
  expect(buf.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Collects the next `n` downloads started by `action`, as { name, body }. */
export async function downloads(page: Page, n: number, action: () => Promise<void>): Promise<{ name: string; body: Buffer }[]> {
  const got: Promise<{ name: string; body: Buffer }>[] = [];
  const done = new Promise<void>((resolve) => {
    const on = (d: import('@playwright/test').Download) => {
      got.push(
        (async () => {
          const p = await d.path();
          return { name: d.suggestedFilename(), body: fs.readFileSync(p) };
        })(),
      );
      if (got.length === n) {
        page.off('download', on);
        resolve();
      }
    };
    page.on('download', on);
  });
  await action();
  await done;
  return Promise.all(got);
}

/** Sets a range input's value the way a user dragging it would (input + change events). */
export async function setSlider(page: Page, label: string, value: number): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(String(value));
}

/** The raw β line of the Fusion-CAM pipeline (in its "Exact weights" disclosure, opened here). */
export async function expectBetas(page: Page, re: RegExp, timeout = 30_000): Promise<void> {
  const details = page.locator('details.raw-betas');
  // the disclosure is drawn anew (closed) when the pipeline recomputes: open it on every try
  await expect(async () => {
    await details.evaluate((d) => ((d as HTMLDetailsElement).open = true), undefined, { timeout: 1_000 });
    await expect(details.getByText(re)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout });
}
