import { test, expect } from '@playwright/test';
import { canvasPixels, chooseFile, figure, heatmap, openApp, photo, pixelSpread, snap, watchConsole } from './helpers';

test('file input: predictions and a Grad-CAM overlay appear', async ({ page }, testInfo) => {
  const consoleWatch = watchConsole(page);
  await openApp(page);
  await snap(page, testInfo, 'empty');
  await chooseFile(page, photo('dog.jpg'));
  const top5 = page.getByRole('list', { name: 'Top-5 predictions' }).getByRole('button');
  await expect(top5).toHaveCount(5);
  await expect(heatmap(page, 'Grad-CAM')).toBeVisible();
  await expect(figure(page, 'Grad-CAM').getByText(/^class \d+/)).toBeVisible();
  const px = await canvasPixels(page, 'Grad-CAM');
  expect(pixelSpread(px)).toBeGreaterThan(10);
  await snap(page, testInfo, 'gradcam');
  consoleWatch.assertClean();
});
