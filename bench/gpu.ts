/**
 * `npm run bench -- --gpu`: the engine on the machine's GPU, for a machine that has one.
 * Headless Chromium with hardware-GPU flags (WebGL through ANGLE on Vulkan, WebGPU enabled);
 * reports the WebGL renderer and the WebGPU adapter, then per GPU backend the forward-pass floor
 * (fused forward, batch 1 and the Score-CAM batch) and Fusion-CAM end to end on MobileNet v1 0.25
 * and 0.75, with wasm on the same page as the yardstick.
 *
 * A software renderer (SwiftShader, llvmpipe, a fallback adapter) would give CPU numbers under a
 * GPU label: then nothing is measured; it prints {"software": true, …} and exits with 3.
 * Writes bench/results-gpu.json. Used from bench/run.ts; kept apart from its other parts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { isSoftwareAdapter, describeAdapter, type WebgpuAdapterInfo } from '../src/engine/webgpuBackend';
import type { PageRunRequest, PageRunResult } from './page';

/** Flags that put Chromium's WebGL and WebGPU on the real GPU (Linux: ANGLE on Vulkan). */
export const GPU_CHROMIUM_ARGS = [
  '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
  '--use-angle=vulkan', '--enable-features=Vulkan', '--ignore-gpu-blocklist', '--enable-gpu', '--enable-unsafe-webgpu',
];

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render driver/i;

export interface GpuProbe {
  webglRenderer: string | null;
  webgpu: WebgpuAdapterInfo | null;
  hasNavigatorGpu: boolean;
}

/** Which GPU backends may be measured; the rest with the reason. */
export function gpuBackends(p: GpuProbe): { measure: ('webgl' | 'webgpu')[]; skipped: Record<string, string> } {
  const measure: ('webgl' | 'webgpu')[] = [];
  const skipped: Record<string, string> = {};
  if (!p.webglRenderer) skipped.webgl = 'WebGL is not available';
  else if (SOFTWARE_RENDERER.test(p.webglRenderer)) skipped.webgl = `software renderer: ${p.webglRenderer}`;
  else measure.push('webgl');
  if (!p.webgpu) skipped.webgpu = p.hasNavigatorGpu ? 'WebGPU has no adapter' : 'WebGPU is not available';
  else if (isSoftwareAdapter(p.webgpu)) skipped.webgpu = `software adapter: ${describeAdapter(p.webgpu)}`;
  else measure.push('webgpu');
  return { measure, skipped };
}

async function benchPage(page: Page, url: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(() => (window as unknown as { __bench?: { ready: boolean } }).__bench?.ready === true, null, { timeout: 120_000 });
      return;
    } catch {
      // the dev server may re-optimise dependencies on first load and reload the page
    }
  }
  throw new Error('the bench page never became ready');
}

export async function runGpuBench(opts: { root: string; input: number[]; log(m: string): void; chromiumPath?: string }): Promise<number> {
  const { root, input, log } = opts;
  const server = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), server: { port: 4392, strictPort: false }, logLevel: 'warn', mode: 'development' });
  await server.listen();
  const base = server.resolvedUrls?.local[0] ?? 'http://localhost:4392/';
  const browser = await chromium.launch({ executablePath: opts.chromiumPath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: GPU_CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[bench')) log(m.text());
    });
    await benchPage(page, `${base}bench/index.html`);
    const probe = await page.evaluate(() => (window as unknown as { __bench: { probe(): Promise<GpuProbe> } }).__bench.probe());
    const { measure, skipped } = gpuBackends(probe);
    const head = { kind: 'gpu', date: new Date().toISOString(), browser: `Chromium ${browser.version()} (headless)`, flags: GPU_CHROMIUM_ARGS.slice(6), webglRenderer: probe.webglRenderer, webgpuAdapter: probe.webgpu ? describeAdapter(probe.webgpu) : null, skipped };
    if (measure.length === 0) {
      const out = { software: true, ...head, message: 'No hardware GPU: every GPU backend here is software-rendered or missing, so no GPU numbers are measured (they would be CPU numbers under a GPU label).' };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      log(`stopped: ${out.message} (${Object.entries(skipped).map(([k, v]) => `${k}: ${v}`).join('; ')})`);
      return 3;
    }
    const results: Record<string, unknown>[] = [];
    for (const backend of ['wasm', ...measure] as PageRunRequest['backend'][]) {
      for (const model of ['mobilenet_v1_0.25_224', 'mobilenet_v1_0.75_224']) {
        const p = await browser.newPage();
        try {
          await benchPage(p, `${base}bench/index.html`);
          const req: PageRunRequest = {
            backend,
            modelId: model,
            input,
            loadRepeats: 1,
            options: { variants: ['reference'], layerPath: false, batchSizes: [1, 32], repeats: 5, heavyRepeats: 2, scoreCamBatch: 32, leakRuns: 1 },
          };
          log(`${backend} ${model}`);
          const r = await p.evaluate((rq) => (window as unknown as { __bench: { run(r: PageRunRequest): Promise<PageRunResult> } }).__bench.run(rq), req);
          const e = r.engine;
          results.push({ backend, model, forwardBatch1: e.forward.batch1, forwardBatch32: e.forward.batchB['32'], floorMs: e.floor?.ms, scoreCamRatio: e.floor?.ratio, fusionEndToEnd: e.fusionEndToEnd, tensors: e.tensors, notes: e.notes });
        } catch (err) {
          results.push({ backend, model, error: (err as Error).message.split('\n')[0] });
        } finally {
          await p.close();
        }
      }
    }
    const cpus = os.cpus();
    const report = { software: false, ...head, machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length }, results };
    fs.writeFileSync(path.join(root, 'bench', 'results-gpu.json'), JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    log('wrote bench/results-gpu.json');
    return 0;
  } finally {
    await browser.close();
    await server.close();
  }
}
