/**
 * Issue 5 in the app: method choice (gradient / region branch of Fusion-CAM), faithfulness
 * metrics beside each map with their curves, and batch evaluation with a CSV download.
 * wasm backend, MobileNet v1 0.25.
 */
import { test, expect } from '@playwright/test';
import { canvasPixels, chooseFile, figure, meanAbsDiff, openApp, photo, snap, waitForFusion, watchConsole } from './helpers';

test('switching the region method to Group-CAM recaptions its panel and changes the Fusion-CAM pixels', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const consoleWatch = watchConsole(page);
  await openApp(page, 'model=mobilenet_v1_0.25_224&backend=wasm&opacity=1');
  await chooseFile(page, photo('dog.jpg'));
  await waitForFusion(page);
  const fusionScore = await canvasPixels(page, 'Fusion-CAM');
  await page.getByLabel('Region method').selectOption('groupcam');
  await expect(figure(page, 'Group-CAM')).toBeVisible();
  await expect(figure(page, 'Score-CAM')).toHaveCount(0);
  await waitForFusion(page);
  const fusionGroup = await canvasPixels(page, 'Fusion-CAM');
  expect(meanAbsDiff(fusionScore, fusionGroup)).toBeGreaterThan(0.5);
  // the gradient branch is untouched by a region change; a new gradient method recaptions its panel
  await page.getByLabel('Gradient method').selectOption('layercam');
  await expect(figure(page, 'LayerCAM')).toBeVisible();
  await expect(figure(page, 'Grad-CAM')).toHaveCount(0);
  await waitForFusion(page);
  expect(page.url()).toContain('region=groupcam');
  expect(page.url()).toContain('gradient=layercam');
  await snap(page, testInfo, 'layercam + group-cam');
  consoleWatch.assertClean();
});
