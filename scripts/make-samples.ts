/**
 * Re-encodes the few Debian darknet photos the app offers as samples (GPL-3.0+/MIT/WTFPL, see
 * public/samples/ATTRIBUTION.md) to small JPEGs, using headless Chromium's own encoder.
 * Run: npx tsx scripts/make-samples.ts
 */
import { chromium } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

const SHARED = path.resolve(process.env.FUSION_CAM_SHARED ?? '../shared');
const OUT = path.resolve('public/samples');
const NAMES = ['dog', 'eagle', 'person', 'scream'];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
// tsx (esbuild keepNames) wraps named functions in __name(), which the page does not have
await page.evaluate('window.__name = (f) => f');
fs.mkdirSync(OUT, { recursive: true });
for (const n of NAMES) {
  const b64 = fs.readFileSync(path.join(SHARED, 'images', 'photos', `${n}.jpg`)).toString('base64');
  const out = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const enc = async (maxSide: number, q: number) => {
      const s = Math.min(1, maxSide / Math.max(bmp.width, bmp.height));
      const c = new OffscreenCanvas(Math.round(bmp.width * s), Math.round(bmp.height * s));
      const ctx = c.getContext('2d')!;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bmp, 0, 0, c.width, c.height);
      const blob = await c.convertToBlob({ type: 'image/jpeg', quality: q });
      const buf = new Uint8Array(await blob.arrayBuffer());
      let str = '';
      for (let i = 0; i < buf.length; i += 0x8000) str += String.fromCharCode(...buf.subarray(i, i + 0x8000));
      return btoa(str);
    };
    return { full: await enc(640, 0.85), thumb: await enc(200, 0.8) };
  }, b64);
  fs.writeFileSync(path.join(OUT, `${n}.jpg`), Buffer.from(out.full, 'base64'));
  fs.writeFileSync(path.join(OUT, `${n}.thumb.jpg`), Buffer.from(out.thumb, 'base64'));
}
await browser.close();
