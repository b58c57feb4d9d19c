/**
 * Screenshots of the real app (the README picture and design checks): opens the studio on a
 * running server, loads a bundled sample, waits for Fusion-CAM and writes PNGs.
 * Run: npx tsx scripts/screenshot.ts [--url http://localhost:4404] [--out docs] [--state empty|computing|done|error|all] [--scheme light|dark]
 * (computing: MobileNet 0.75 mid-Score-CAM, then the cancelled state; error: a text file chosen as the image)
 * README picture: docs/studio.png (1440×900, light, done).
 */
import { chromium } from '@playwright/test';
import path from 'node:path';
import fs from 'node:fs';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const url = arg('url', 'http://localhost:4404');
const out = path.resolve(arg('out', 'docs'));
const state = arg('state', 'done');
const scheme = arg('scheme', 'light') as 'light' | 'dark';
const sample = arg('sample', 'Sample: Dog with a bicycle');
const query = arg('query', 'model=mobilenet_v1_0.25_224&backend=wasm');
fs.mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const wants = (s: string) => state === s || state === 'all';
for (const [w, h, tag] of [
  [1440, 900, ''],
  [390, 844, '-390'],
] as const) {
  if (state !== 'all' && tag) continue;
  const open = async (q = query) => {
    const page = await browser.newPage({ viewport: { width: w, height: h }, colorScheme: scheme, deviceScaleFactor: 1 });
    await page.goto(`${url}/?${q}`, { waitUntil: 'commit' });
    await page.getByText('Model ready').waitFor({ timeout: 120_000 });
    return page;
  };
  const shot = (page: import('@playwright/test').Page, what: string) => page.screenshot({ path: path.join(out, `studio-${what}${tag}-${scheme}.png`) });
  const page = await open();
  if (wants('empty')) await shot(page, 'empty');
  if (state !== 'empty') {
    await page.getByRole('button', { name: sample }).first().click();
    await page.locator('figure[data-panel="fusioncam"][data-state="done"]').waitFor({ timeout: 180_000 });
    await page.waitForTimeout(500);
    const name = state === 'done' && !tag ? (scheme === 'light' ? 'studio.png' : `studio-${scheme}.png`) : `studio-done${tag}-${scheme}.png`;
    await page.screenshot({ path: path.join(out, name) });
    if (state === 'all') await page.screenshot({ path: path.join(out, `studio-done${tag}-${scheme}-full.png`), fullPage: true });
  }
  await page.close();
  if (wants('computing')) {
    // MobileNet 0.75: Score-CAM runs long enough to be seen computing, then cancelled
    const slow = await open(query.replace('mobilenet_v1_0.25_224', 'mobilenet_v1_0.75_224'));
    await slow.getByRole('button', { name: sample }).first().click();
    const cancel = slow.locator('figure[data-panel="region"]').getByRole('button', { name: 'Cancel' });
    await cancel.waitFor({ timeout: 60_000 });
    await slow.waitForTimeout(3000);
    await shot(slow, 'computing');
    await cancel.click();
    await slow.getByRole('button', { name: 'Resume', exact: true }).waitFor({ timeout: 30_000 });
    await shot(slow, 'cancelled');
    await slow.close();
  }
  if (wants('error')) {
    const bad = await open();
    await bad.getByLabel('Image file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await bad.getByRole('alert').first().waitFor({ timeout: 30_000 });
    await shot(bad, 'error');
    await bad.close();
  }
}
await browser.close();
