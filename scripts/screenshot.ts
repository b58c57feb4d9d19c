/**
 * Screenshots of the real app (the README picture and design checks): opens the studio on a
 * running server, loads a bundled sample, waits for Fusion-CAM and writes PNGs.
 * Run: npx tsx scripts/screenshot.ts [--url http://localhost:4404] [--out docs] [--state empty|done|all] [--scheme light|dark]
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
for (const [w, h, tag] of [
  [1440, 900, ''],
  [390, 844, '-390'],
] as const) {
  if (state !== 'all' && tag) continue;
  const page = await browser.newPage({ viewport: { width: w, height: h }, colorScheme: scheme, deviceScaleFactor: 1 });
  await page.goto(`${url}/?${query}`, { waitUntil: 'commit' });
  await page.getByText('Model ready').waitFor({ timeout: 120_000 });
  if (state === 'empty' || state === 'all') await page.screenshot({ path: path.join(out, `studio-empty${tag}-${scheme}.png`) });
  if (state !== 'empty') {
    await page.getByRole('button', { name: sample }).first().click();
    await page.locator('figure[data-panel="fusioncam"][data-state="done"]').waitFor({ timeout: 180_000 });
    await page.waitForTimeout(500);
    const name = state === 'done' && !tag ? (scheme === 'light' ? 'studio.png' : `studio-${scheme}.png`) : `studio-done${tag}-${scheme}.png`;
    await page.screenshot({ path: path.join(out, name) });
    if (state === 'all') await page.screenshot({ path: path.join(out, `studio-done${tag}-${scheme}-full.png`), fullPage: true });
  }
  await page.close();
}
await browser.close();
