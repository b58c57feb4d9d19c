/**
 * Browser benchmark (`npm run bench`): measures, never judges, and never reaches the internet.
 *
 * 1. The app through its UI: `vite build` + `vite preview` (COOP/COEP, models at /models/);
 *    end to end from a dropped image to Fusion-CAM pixels, slider latency (input event →
 *    putImageData on the panel's canvas) for τ, opacity, colormap and θ, the longest main-thread
 *    task during a run (PerformanceObserver 'longtask').
 * 2. Engine in the page: the Vite dev server serves bench/index.html (engine imported directly);
 *    headless Debian Chromium runs bench/measure.ts per backend (wasm, webgl, cpu) and model.
 * Writes bench/results.json and bench/results.md (with `--only`, the other part of the last run
 * is kept, with its date). Budget ≈ 20 min on a 2-core machine.
 *
 * 3. Live camera (bench/live.ts): maps per second with a fake camera, long tasks while live.
 *
 *   npm run bench [-- --quick] [-- --only engine|ui|live]
 *   npm run bench -- --gpu      (the GPU part, bench/gpu.ts: on a machine with a GPU)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { createServer, preview, type ViteDevServer, type PreviewServer } from 'vite';
import { readImageFile } from '../src/node/files';
import { PREPROCESSING, toModelInput } from '../src/engine/index';
import type { PageRunRequest, PageRunResult } from './page';
import { stats, type Stats } from './measure';
import { toMarkdown, type Report } from './report';
import { liveMarkdown, runLiveBench, type LiveRow } from './live';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.FUSION_CAM_SHARED ?? path.resolve(root, '../shared');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : 'all';
const started = Date.now();
const log = (m: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

const M025 = 'mobilenet_v1_0.25_224';
const M075 = 'mobilenet_v1_0.75_224';
const IMAGE = path.join(shared, 'images/photos/dog.jpg');

// docs/platform-notes.md note 6: keep SwiftShader WebGL; node.md: no background networking on a closed network
const CHROMIUM_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-swiftshader'];

interface EngineCase {
  backend: 'wasm' | 'webgl' | 'cpu';
  model: string;
  options: PageRunRequest['options'];
  loadRepeats: number;
}

function engineCases(): EngineCase[] {
  const base = { variants: ['reference', 'xplain', 'original'] as PageRunRequest['options']['variants'], layerPath: true };
  const q = quick ? 0.5 : 1;
  return [
    { backend: 'wasm', model: M025, loadRepeats: 3, options: { ...base, batchSizes: [1, 8, 16, 32, 64], repeats: Math.ceil(10 * q), heavyRepeats: quick ? 1 : 3, scoreCamBatch: 16, leakRuns: quick ? 3 : 20 } },
    { backend: 'wasm', model: M075, loadRepeats: 2, options: { ...base, batchSizes: [1, 8, 16, 32], repeats: Math.ceil(6 * q), heavyRepeats: quick ? 1 : 2, scoreCamBatch: 16, leakRuns: quick ? 1 : 2 } },
    { backend: 'webgl', model: M025, loadRepeats: 1, options: { ...base, variants: ['reference'], layerPath: false, batchSizes: [1, 8], repeats: 3, heavyRepeats: 1, scoreCamBatch: 8, leakRuns: quick ? 1 : 2 } },
    { backend: 'webgl', model: M075, loadRepeats: 1, options: { ...base, variants: ['reference'], layerPath: false, batchSizes: [1, 8], repeats: 3, heavyRepeats: 1, scoreCamBatch: 8, leakRuns: 0, skipScoreCam: true } },
    { backend: 'cpu', model: M025, loadRepeats: 1, options: { ...base, variants: ['reference'], layerPath: false, batchSizes: [1, 8], repeats: 3, heavyRepeats: 1, scoreCamBatch: 8, leakRuns: 0 } },
  ];
}

async function waitForBenchPage(page: Page, url: string): Promise<void> {
  // the dev server may re-optimise dependencies on first load and reload the page: retry
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(() => (window as unknown as { __bench?: { ready: boolean } }).__bench?.ready === true, null, { timeout: 120_000 });
      return;
    } catch (e) {
      log(`bench page not ready (${(e as Error).message.split('\n')[0]}); retrying`);
    }
  }
  throw new Error('the bench page never became ready');
}

async function runEngineBench(browser: Browser, input: number[]): Promise<Record<string, unknown>[]> {
  const server: ViteDevServer = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), server: { port: 4391, strictPort: false }, logLevel: 'warn', mode: 'development' });
  await server.listen();
  const base = server.resolvedUrls?.local[0] ?? 'http://localhost:4391/';
  const out: Record<string, unknown>[] = [];
  try {
    for (const c of engineCases()) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.text().startsWith('[bench')) log(m.text());
      });
      const t0 = Date.now();
      try {
        await waitForBenchPage(page, `${base}bench/index.html`);
        const req: PageRunRequest = { backend: c.backend, modelId: c.model, input, loadRepeats: c.loadRepeats, options: c.options };
        const r = await page.evaluate((rq) => (window as unknown as { __bench: { run(r: PageRunRequest): Promise<PageRunResult> } }).__bench.run(rq), req);
        out.push({ ...r, backend: c.backend, model: c.model, seconds: Math.round((Date.now() - t0) / 1000) });
      } catch (e) {
        out.push({ backend: c.backend, model: c.model, error: (e as Error).message.split('\n')[0] });
        log(`engine ${c.backend} ${c.model} failed: ${(e as Error).message.split('\n')[0]}`);
      }
      await context.close();
    }
  } finally {
    await server.close();
  }
  return out;
}

// ---- the app, through its UI ----------------------------------------------------------------

/** Records longtasks and every putImageData/drawImage per labelled canvas (by aria-label), before the app starts. */
const INSTRUMENT = () => {
  const w = window as unknown as { __bench: { longtasks: { start: number; duration: number }[]; puts: { label: string; t: number; frame?: number }[]; note(label: string): void } };
  w.__bench = { longtasks: [], puts: [] } as unknown as typeof w.__bench;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__bench.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    /* no longtask support */
  }
  // each draw also notes when the next animation frame runs (its rendering then shows the draw).
  // (a property, not a named const: tsx would wrap a named one in __name, which the page lacks)
  w.__bench.note = (label: string) => {
    const entry: { label: string; t: number; frame?: number } = { label, t: performance.now() };
    w.__bench.puts.push(entry);
    requestAnimationFrame(() => (entry.frame = performance.now()));
  };
  const put = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (this: CanvasRenderingContext2D, ...a: unknown[]) {
    (put as (...x: unknown[]) => void).apply(this, a);
    w.__bench.note(this.canvas.getAttribute('aria-label') ?? '');
  } as typeof put;
  // the panels colour the map in a small unlabelled canvas and drawImage it onto the labelled one
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (this: CanvasRenderingContext2D, ...a: unknown[]) {
    (draw as (...x: unknown[]) => void).apply(this, a);
    const label = this.canvas.getAttribute('aria-label');
    if (label) w.__bench.note(label);
  } as typeof draw;
};

interface UiResult {
  backend: string;
  model: string;
  endToEnd?: Stats;
  thumbnails?: Stats & { layers: number };
  longestTaskMs?: number;
  longTasksOver100?: number;
  sliders?: Record<string, Stats & { presented: Stats }>;
  forwardPassesForTau?: number;
  /** Engine forward passes for the θ changes (0 when the helper scored every θ ahead). */
  forwardPassesForTheta?: number;
  /** From the last drop until the helper had scored every θ ahead. */
  allThetasReadyMs?: number;
  error?: string;
  notes: string[];
}

async function dropImage(page: Page, file: string): Promise<number> {
  const b64 = fs.readFileSync(file).toString('base64');
  return page.evaluate(
    ({ b64, name }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'image/jpeg' }));
      const target = document.querySelector('main') ?? document.body;
      const t0 = performance.now();
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      return t0;
    },
    { b64, name: path.basename(file) },
  );
}

/** Waits until the Fusion-CAM panel shows a finished map drawn after t0; returns the draw time. */
async function waitFusionDone(page: Page, t0: number, timeoutMs: number): Promise<number> {
  const h = await page.waitForFunction(
    (since) => {
      const fig = document.querySelector('figure[data-panel="fusioncam"]');
      if (!fig || fig.hasAttribute('aria-busy') || !/θ\s*\d/.test(fig.textContent ?? '')) return false;
      const puts = (window as unknown as { __bench: { puts: { label: string; t: number }[] } }).__bench.puts.filter((p) => p.label.startsWith('Fusion-CAM heatmap') && p.t > since);
      return puts.length ? puts[puts.length - 1].t : false;
    },
    t0,
    { timeout: timeoutMs, polling: 50 },
  );
  return (await h.jsonValue()) as number;
}

/** Waits until every layer-picker thumbnail shows its map (or its error); returns the time and the layer count. */
async function waitThumbnailsDrawn(page: Page, timeoutMs: number): Promise<{ t: number; layers: number }> {
  const h = await page.waitForFunction(
    () => {
      const all = [...document.querySelectorAll<HTMLCanvasElement>('.layer-list canvas')];
      const done = all.length > 0 && all.every((c) => c.dataset.drawn === 'map' || c.dataset.state === 'error');
      return done ? { t: performance.now(), layers: all.length } : false;
    },
    null,
    { timeout: timeoutMs, polling: 50 },
  );
  return (await h.jsonValue()) as { t: number; layers: number };
}

/** What the page shows (panels, thumbnails, alerts), for a failure report. */
async function pageState(page: Page): Promise<string> {
  return page.evaluate(() => {
    const panels = [...document.querySelectorAll('figure[data-panel]')].map((f) => `${f.getAttribute('data-panel')}${f.hasAttribute('aria-busy') ? ' (busy)' : ''}: ${(f.querySelector('figcaption')?.textContent ?? '').slice(0, 80)}`);
    const thumbs = [...document.querySelectorAll<HTMLCanvasElement>('.layer-list canvas')];
    const drawn = thumbs.filter((c) => c.dataset.drawn === 'map').length;
    const errors = thumbs.filter((c) => c.dataset.state === 'error').length;
    const alerts = [...document.querySelectorAll('[role=alert]')].map((a) => (a.textContent ?? '').slice(0, 120));
    return `${panels.join(' | ')}; thumbnails ${drawn} drawn, ${errors} errors, of ${thumbs.length} (states: ${[...new Set(thumbs.map((c) => `${c.dataset.state}/${c.dataset.drawn}`))].join(', ')}); alerts: ${alerts.join(' | ') || 'none'}`;
  });
}

/** Sets a control like a user (native setter + input/change events) and times the canvas redraw. */
async function controlLatency(page: Page, label: string, canvasPrefix: string, values: string[], settleMs: number): Promise<{ put: number[]; presented: number[] }> {
  const put: number[] = [];
  const presented: number[] = [];
  for (const v of values) {
    const r = await page.evaluate(
      async ({ label, canvasPrefix, v, settleMs }) => {
        const el = [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === label);
        const input = el?.htmlFor ? (document.getElementById(el.htmlFor) as HTMLInputElement | HTMLSelectElement | null) : null;
        if (!input) throw new Error(`no control labelled ${label}`);
        const b = (window as unknown as { __bench: { puts: { label: string; t: number; frame?: number }[] } }).__bench;
        const proto = input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
        const t0 = performance.now();
        Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, v);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
        // settle: no new draw of the canvas for settleMs
        let last = -1;
        for (;;) {
          await new Promise((r) => setTimeout(r, 20));
          const puts = b.puts.filter((p) => p.label.startsWith(canvasPrefix) && p.t > t0);
          const l = puts.length ? puts[puts.length - 1].t : -1;
          if (l > 0 && l === last && performance.now() - l > settleMs) break;
          if (performance.now() - t0 > 30_000) break;
          last = l;
        }
        if (last < 0) return null;
        // the animation frame after the last redraw is the one that shows it
        const lastPut = b.puts.filter((p) => p.label.startsWith(canvasPrefix) && p.t > t0).pop()!;
        while (lastPut.frame === undefined) await new Promise((r) => setTimeout(r, 5));
        return { put: last - t0, presented: Math.max(last, lastPut.frame) - t0 };
      },
      { label, canvasPrefix, v, settleMs },
    );
    if (r) {
      put.push(r.put);
      presented.push(r.presented);
    }
  }
  return { put, presented };
}

async function runUiBench(browser: Browser): Promise<UiResult[]> {
  log('building the app (vite build)');
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VITE_MODEL_BASE: '/models/' } });
  const server: PreviewServer = await preview({ root, configFile: path.join(root, 'vite.config.ts'), preview: { port: 4392, strictPort: false }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local[0] ?? 'http://localhost:4392/';
  const out: UiResult[] = [];
  const cases: [string, string, number][] = [
    ['wasm', M025, quick ? 1 : 3],
    ['wasm', M075, quick ? 1 : 2],
    ['webgl', M025, 1],
  ];
  try {
    for (const [backend, model, e2eRepeats] of cases) {
      const res: UiResult = { backend, model, notes: [] };
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      await page.addInitScript(INSTRUMENT);
      try {
        await page.goto(`${base}?model=${model}&backend=${backend}&models=/models/`, { waitUntil: 'commit' });
        await page.getByText('Model ready').waitFor({ timeout: 120_000 });
        const e2e: number[] = [];
        const thumbs: number[] = [];
        let thumbLayers = 0;
        let longest = 0;
        let over100 = 0;
        let lastDrop = 0;
        for (let i = 0; i <= e2eRepeats; i++) {
          const lt0 = await page.evaluate(() => (window as unknown as { __bench: { longtasks: unknown[] } }).__bench.longtasks.length);
          const t0 = await dropImage(page, IMAGE);
          lastDrop = t0;
          const t1 = await waitFusionDone(page, t0, backend === 'webgl' ? 600_000 : 240_000);
          const th = await waitThumbnailsDrawn(page, backend === 'webgl' ? 600_000 : 240_000);
          const tEnd = Math.max(t1, th.t);
          const tasks = await page.evaluate(
            ({ lt0, t0, tEnd }) => (window as unknown as { __bench: { longtasks: { start: number; duration: number }[] } }).__bench.longtasks.slice(lt0).filter((t) => t.start >= t0 - 1 && t.start <= tEnd),
            { lt0, t0, tEnd },
          );
          if (i > 0 || backend === 'webgl') {
            // the first drop warms up (kernels, caches); WebGL gets one drop
            e2e.push(t1 - t0);
            thumbs.push(th.t - t0);
            thumbLayers = th.layers;
          }
          for (const t of tasks) {
            longest = Math.max(longest, t.duration);
            if (t.duration > 100) over100++;
          }
          log(`ui ${backend} ${model}: dropped image → Fusion-CAM pixels ${(t1 - t0).toFixed(0)} ms, all ${th.layers} thumbnails ${(th.t - t0).toFixed(0)} ms, longest task ${Math.max(0, ...tasks.map((t) => t.duration)).toFixed(0)} ms`);
          if (backend === 'webgl') break;
        }
        // the helper scores every θ ahead once a map is shown (wasm only), while nobody touches
        // the page: wait for it before the sliders (which would pause it)
        const ready = await page
          .waitForFunction(() => ((window as unknown as { __fusionCam?: { thetasReady: number } }).__fusionCam?.thetasReady ?? 0) >= 100 && performance.now(), null, { timeout: backend === 'webgl' ? 1_000 : 120_000, polling: 50 })
          .then(async (h) => (await h.jsonValue()) as number, () => null);
        res.allThetasReadyMs = ready === null ? undefined : Math.round(ready - lastDrop);
        res.endToEnd = stats(e2e);
        res.thumbnails = { ...stats(thumbs), layers: thumbLayers };
        res.longestTaskMs = Math.round(longest);
        res.longTasksOver100 = over100;
        const passes0 = await page.evaluate(() => (window as unknown as { __fusionCam?: { forwardPasses: number } }).__fusionCam?.forwardPasses ?? -1);
        const n = quick ? 5 : 20;
        const tauValues = Array.from({ length: n }, (_, i) => (i % 2 ? 0.5 + 0.05 * i : 1.5 - 0.05 * i).toFixed(2));
        const sliders: NonNullable<UiResult['sliders']> = {};
        const tau = await controlLatency(page, 'Agreement tolerance τ', 'Fusion-CAM heatmap', tauValues, 150);
        const passes1 = await page.evaluate(() => (window as unknown as { __fusionCam?: { forwardPasses: number } }).__fusionCam?.forwardPasses ?? -1);
        res.forwardPassesForTau = passes0 >= 0 ? passes1 - passes0 : undefined;
        sliders.tau = { ...stats(tau.put), presented: stats(tau.presented) };
        const op = await controlLatency(page, 'Overlay opacity', 'Fusion-CAM heatmap', Array.from({ length: n }, (_, i) => ((i % 10) / 10 + 0.05).toFixed(2)), 150);
        sliders.opacity = { ...stats(op.put), presented: stats(op.presented) };
        const cms = ['turbo', 'jet', 'viridis', 'inferno'];
        const cm = await controlLatency(page, 'Colormap', 'Fusion-CAM heatmap', Array.from({ length: n }, (_, i) => cms[(i + 1) % cms.length]), 150);
        sliders.colormap = { ...stats(cm.put), presented: stats(cm.presented) };
        const thetaValues = Array.from({ length: backend === 'webgl' ? 3 : n }, (_, i) => String(12 + i * 3));
        const passes2 = await page.evaluate(() => (window as unknown as { __fusionCam?: { forwardPasses: number } }).__fusionCam?.forwardPasses ?? -1);
        const th = await controlLatency(page, 'Denoise θ', 'Fusion-CAM heatmap', thetaValues, 400);
        sliders.theta = { ...stats(th.put), presented: stats(th.presented) };
        const passes3 = await page.evaluate(() => (window as unknown as { __fusionCam?: { forwardPasses: number } }).__fusionCam?.forwardPasses ?? -1);
        res.forwardPassesForTheta = passes2 >= 0 ? passes3 - passes2 : undefined;
        if (ready !== null) {
          // and on demand (two batch-1 passes per change), in a page that scores nothing ahead
          const p2 = await context.newPage();
          await p2.addInitScript(INSTRUMENT);
          await p2.goto(`${base}?model=${model}&backend=${backend}&models=/models/&thetaAhead=0`, { waitUntil: 'commit' });
          await p2.getByText('Model ready').waitFor({ timeout: 120_000 });
          await waitFusionDone(p2, await dropImage(p2, IMAGE), 240_000);
          // as in the main page, θ is timed with the thumbnails done (they run on the helper)
          await waitThumbnailsDrawn(p2, 240_000);
          const od = await controlLatency(p2, 'Denoise θ', 'Fusion-CAM heatmap', thetaValues, 400);
          sliders.thetaOnDemand = { ...stats(od.put), presented: stats(od.presented) };
          await p2.close();
        }
        res.sliders = sliders;
        for (const [k, s] of Object.entries(sliders)) if (s.n === 0) res.notes.push(`${k}: no redraw of the Fusion-CAM canvas was seen`);
        log(`ui ${backend} ${model}: τ p95 ${sliders.tau.p95} ms, opacity p95 ${sliders.opacity.p95}, colormap p95 ${sliders.colormap.p95}, θ p95 ${sliders.theta.p95} (${res.forwardPassesForTheta} passes; every θ ready ${res.allThetasReadyMs ?? '–'} ms after the drop), θ on demand p95 ${sliders.thetaOnDemand?.p95 ?? '–'}`);
      } catch (e) {
        res.error = (e as Error).message.split('\n')[0];
        log(`ui ${backend} ${model} failed: ${res.error}; the page showed: ${await pageState(page).catch(() => '(page gone)')}`);
      }
      out.push(res);
      await context.close();
    }
  } finally {
    await new Promise<void>((r) => server.httpServer.close(() => r()));
  }
  return out;
}

function readPreviousReport(file: string): Report | null {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
    return r.kind === 'browser' ? r : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const img = await readImageFile(IMAGE);
  const { input } = toModelInput(img, [224, 224], PREPROCESSING.mobilenet);
  const launch = () => chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  let version = '';
  let engine: Record<string, unknown>[] = [];
  let ui: UiResult[] = [];
  // The app part runs first, each part in a browser of its own. After the engine part (WebGL
  // contexts, GBs of wasm heaps) even a fresh browser drew slower for minutes on this VM (slider
  // p95 33–41 ms instead of 12–17, tasks up to 245 ms instead of ≤ 62, mostly kernel time;
  // measured 2026-11-28 in a full and a --quick run against --only ui right after).
  if (only === 'all' || only === 'ui') {
    const browser = await launch();
    version = browser.version();
    try {
      ui = await runUiBench(browser);
    } catch (e) {
      log(`UI bench failed: ${(e as Error).message.split('\n')[0]}`);
      ui = [{ backend: '-', model: '-', error: (e as Error).message.split('\n')[0], notes: [] }];
    } finally {
      await browser.close();
    }
  }
  let live: LiveRow[] = [];
  if (only === 'all' || only === 'live') {
    // the UI part built dist/ already in a full run
    if (only === 'live') execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VITE_MODEL_BASE: '/models/' } });
    live = await runLiveBench({ root, shared, chromiumArgs: CHROMIUM_ARGS, seconds: quick ? 8 : 20, log });
  }
  if (only === 'all' || only === 'engine') {
    const browser = await launch();
    version = browser.version();
    try {
      engine = await runEngineBench(browser, Array.from(input));
    } finally {
      await browser.close();
    }
  }
  const pkg = (name: string) => (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const cpus = os.cpus();
  const report = {
    kind: 'browser',
    date: new Date().toISOString(),
    machine: { os: `${os.type()} ${os.release()} ${os.arch()}`, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg().map((v) => Math.round(v * 10) / 10) },
    browser: `Chromium ${version} (headless)`,
    tfjs: pkg('@tensorflow/tfjs-core'),
    image: 'photos/dog.jpg',
    minutes: Math.round((Date.now() - started) / 6000) / 10,
    engine,
    ui,
    live,
  };
  const outDir = path.join(root, 'bench');
  // `--only` re-measures one part; the other part of the last run is kept (with its own date), so
  // the table never silently loses rows
  const previous = readPreviousReport(path.join(outDir, 'results.json'));
  if (only === 'ui' && previous?.engine.length) Object.assign(report, { engine: previous.engine, engineDate: previous.engineDate ?? previous.date });
  if (only === 'engine' && previous?.ui?.length) Object.assign(report, { ui: previous.ui, uiDate: previous.uiDate ?? previous.date });
  if (only === 'live' && previous) Object.assign(report, { engine: previous.engine, ui: previous.ui ?? [], engineDate: previous.engineDate ?? previous.date, uiDate: previous.uiDate ?? previous.date });
  // the live part launches its own browser: keep the version the other parts recorded
  const prevBrowser = (previous as { browser?: string } | null)?.browser;
  if (!version && prevBrowser) report.browser = prevBrowser;
  const prevLive = (previous as { live?: LiveRow[] } | null)?.live;
  if (only !== 'all' && only !== 'live' && prevLive?.length) Object.assign(report, { live: prevLive });
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'results.md'), toMarkdown(report as unknown as Report) + liveMarkdown(report.live).join('\n') + '\n');
  log(`wrote bench/results.json and bench/results.md in ${report.minutes} min`);
}

if (args.includes('--gpu')) {
  // a separate part for GPU machines (bench/gpu.ts): stops with {"software": true} without a GPU
  const { runGpuBench } = await import('./gpu');
  const img = await readImageFile(IMAGE);
  process.exitCode = await runGpuBench({ root, input: Array.from(toModelInput(img, [224, 224], PREPROCESSING.mobilenet).input), log });
} else await main();
