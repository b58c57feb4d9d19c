/**
 * Compare: pin an explanation, change the layer, the class, the variant and the model, see both columns with the same
 * three methods, the shared scale and the difference map (ranges checked against the maps
 * themselves), the pin in the URL (recomputed after a reload) and in the export sidecar.
 */
import { test, expect, type Page } from '@playwright/test';
import { downloads, dropFile, figure, openApp, photo, waitForFusion, watchConsole } from './helpers';

type Maps = { gradient: number[]; region: number[]; fusion: number[] };

async function compareMaps(page: Page, which: 'pinned' | 'current'): Promise<{ spec: Record<string, unknown>; maps: Maps } | null> {
  return page.evaluate((w) => {
    const h = (window as unknown as { __fusionCamCompare: Record<string, () => { spec: Record<string, unknown>; maps: Record<string, Float32Array> } | null> }).__fusionCamCompare;
    const r = h[w]();
    if (!r) return null;
    return { spec: r.spec, maps: { gradient: Array.from(r.maps.gradient), region: Array.from(r.maps.region), fusion: Array.from(r.maps.fusion) } };
  }, which);
}

function minMax(a: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function maxAbsDiff(a: number[], b: number[]): number {
  let d = 0;
  a.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[i]))));
  return d;
}

/** Opens the app, explains `file` and pins it: the pinned column, its maps, and the current column. */
async function explainAndPin(page: Page, file: string) {
  await openApp(page);
  await dropFile(page, photo(file));
  await waitForFusion(page);
  await page.getByRole('button', { name: 'Pin', exact: true }).click();
  const pinnedCol = page.getByRole('figure', { name: /^Pinned: / });
  await expect(pinnedCol).toBeVisible();
  return { pinnedCol, pinned: (await compareMaps(page, 'pinned'))!, currentCol: page.getByRole('figure', { name: /^Current: / }) };
}

/** Parses "−0.412" / "+0.537" / "0" as the panel writes them. */
const num = (s: string) => Number(s.replace('−', '-').replace('+', ''));

test('pin, change layer and class: side by side, shared scale, difference, URL and sidecar', async ({ page }) => {
  test.setTimeout(400_000);
  const console = watchConsole(page);
  const { pinnedCol, pinned, currentCol } = await explainAndPin(page, 'dog.jpg');
  const layer0 = pinned.spec.layer as string;
  expect(layer0).toMatch(/^conv_pw_\d+_relu$/);
  await expect(pinnedCol.locator('figcaption')).toHaveText(new RegExp(`^Pinned: MobileNet.* · ${layer0} · .+ \\(class \\d+\\) · reference$`));
  for (const m of ['Grad-CAM', 'Score-CAM', 'Fusion-CAM']) await expect(pinnedCol.getByRole('img', { name: `Pinned ${m} map` })).toBeVisible();
  await expect.poll(() => new URL(page.url()).searchParams.get('pin')).toContain(`layer:${layer0}`);

  // another layer: the current column follows, the pinned one stays
  // the radio sits under its thumbnail (the label takes the click): dispatched, as a click on the label would
  await page.getByRole('radiogroup', { name: 'Layer' }).getByRole('radio', { name: /^conv_pw_11_relu,/ }).dispatchEvent('click');
  await expect(currentCol.locator('figcaption')).toHaveText(/ · conv_pw_11_relu · .+ · reference$/, { timeout: 120_000 });
  for (const m of ['Grad-CAM', 'Score-CAM', 'Fusion-CAM']) await expect(currentCol.getByRole('img', { name: `Current ${m} map` })).toBeVisible({ timeout: 120_000 });
  expect((await compareMaps(page, 'pinned'))!.maps.fusion).toEqual(pinned.maps.fusion);

  // difference: current − pinned, its range as said on screen
  await page.getByLabel('Difference map').check();
  const cur = (await compareMaps(page, 'current'))!;
  expect(cur.spec.layer).toBe('conv_pw_11_relu');
  for (const [key, label] of [['gradient', 'Grad-CAM'], ['region', 'Score-CAM'], ['fusion', 'Fusion-CAM']] as const) {
    const d = cur.maps[key].map((v, i) => v - pinned.maps[key][i]);
    const [lo, hi] = minMax(d);
    expect(hi - lo, `${label} changed with the layer`).toBeGreaterThan(0.05);
    const text = (await page.getByLabel(`${label} difference range`).textContent())!;
    const m = text.match(/: (\S+) … (\S+) \(scale ±(\S+)\)$/);
    expect(m, text).not.toBeNull();
    expect(num(m![1])).toBeCloseTo(lo, 3);
    expect(num(m![2])).toBeCloseTo(hi, 3);
    expect(num(m![3])).toBeCloseTo(Math.max(-lo, hi), 3);
  }
  await expect(page.getByRole('img', { name: 'Difference Fusion-CAM map' })).toBeVisible();

  // shared scale: one range over both columns
  await page.getByLabel('Shared colour scale').check();
  const [lo, hi] = minMax([...Object.values(pinned.maps).flat(), ...Object.values(cur.maps).flat()]);
  const scaleText = (await page.getByLabel('Colour scale', { exact: true }).textContent())!;
  const sm = scaleText.match(/: (\S+) – (\S+)$/)!;
  expect(num(sm[1])).toBeCloseTo(lo, 3);
  expect(num(sm[2])).toBeCloseTo(hi, 3);

  // the sidecar says what is compared
  const files = await downloads(page, 1, () => figure(page, 'Fusion-CAM').getByRole('button', { name: 'Export JSON' }).click());
  const sidecar = JSON.parse(files.find((f) => f.name.endsWith('.json'))!.body.toString('utf8'));
  expect(sidecar.compare.pinned.layer).toBe(layer0);
  expect(sidecar.compare.current.layer).toBe('conv_pw_11_relu');
  expect(sidecar.compare.sharedScale).toBe(true);
  expect(sidecar.compare.difference).toBe('current − pinned');
  expect(sidecar.compare.pin).toBe(new URL(page.url()).searchParams.get('pin'));

  // another class: the column says so
  const second = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button').nth(1);
  await second.click();
  await expect(currentCol.locator('figcaption')).not.toHaveText(new RegExp(`\\(class ${pinned.spec.classIndex}\\)`), { timeout: 120_000 });
  await expect(currentCol.getByRole('img', { name: 'Current Fusion-CAM map' })).toBeVisible({ timeout: 120_000 });

  // a reload with the link: the pin is recomputed for the same photo, the current settings kept
  const url = new URL(page.url());
  url.searchParams.delete('class');
  await page.goto(url.pathname + url.search, { waitUntil: 'commit' });
  await expect(page.getByText('Model ready')).toBeVisible({ timeout: 60_000 });
  await dropFile(page, photo('dog.jpg'));
  await expect(page.getByRole('figure', { name: /^Pinned: / })).toBeVisible({ timeout: 240_000 });
  const again = (await compareMaps(page, 'pinned'))!;
  expect(again.spec).toEqual(pinned.spec);
  for (const key of ['gradient', 'region', 'fusion'] as const) expect(maxAbsDiff(again.maps[key], pinned.maps[key]), `recomputed pinned ${key}`).toBeLessThan(1e-4);
  await expect(page.getByRole('figure', { name: /^Current: / }).locator('figcaption')).toHaveText(/ · conv_pw_11_relu · /, { timeout: 120_000 });
  console.assertClean();
});

test('pin, then change the variant and the model: the columns say which is which, the pinned maps stay', async ({ page }) => {
  test.setTimeout(300_000);
  const console = watchConsole(page);
  const { pinnedCol, pinned, currentCol } = await explainAndPin(page, 'kite.jpg');
  await expect(pinnedCol.locator('figcaption')).toHaveText(/^Pinned: MobileNet v1 0\.25 .* · reference$/);

  // the method variant: Fusion-CAM of the xplain code beside the reference one
  await page.getByLabel('Variant').selectOption('xplain');
  await expect(currentCol.locator('figcaption')).toHaveText(/^Current: MobileNet v1 0\.25 .* · xplain$/, { timeout: 120_000 });
  await expect(currentCol.getByRole('img', { name: 'Current Fusion-CAM map' })).toBeVisible({ timeout: 120_000 });
  await expect.poll(async () => (await compareMaps(page, 'current'))?.spec.variant, { timeout: 120_000 }).toBe('xplain');

  // another model: MobileNet 0.75 beside the pinned 0.25, same photo, same three methods
  await page.getByLabel('Model', { exact: true }).selectOption('mobilenet_v1_0.75_224');
  await expect(currentCol.locator('figcaption')).toHaveText(/^Current: MobileNet v1 0\.75 /, { timeout: 180_000 });
  for (const m of ['Grad-CAM', 'Score-CAM', 'Fusion-CAM']) await expect(currentCol.getByRole('img', { name: `Current ${m} map` })).toBeVisible({ timeout: 180_000 });
  await expect(pinnedCol.locator('figcaption')).toHaveText(/^Pinned: MobileNet v1 0\.25 .* · reference$/);
  expect((await compareMaps(page, 'pinned'))!.maps.fusion).toEqual(pinned.maps.fusion);
  await expect.poll(async () => (await compareMaps(page, 'current'))?.spec.modelId, { timeout: 180_000 }).toBe('mobilenet_v1_0.75_224');
  // the two models see the kite differently
  const cur = (await compareMaps(page, 'current'))!;
  expect(cur.maps.fusion.length).toBe(pinned.maps.fusion.length);
  expect(maxAbsDiff(cur.maps.fusion, pinned.maps.fusion)).toBeGreaterThan(0.05);
  console.assertClean();
});
