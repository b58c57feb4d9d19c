/**
 * Live camera bench (part of `npm run bench`; alone: `npm run bench -- --only live`): the built
 * app in Chromium with a fake camera (a y4m of two photos, src/node/y4m.ts), wasm, MobileNet
 * 0.25 and 0.75. Reports live maps per second (the rate the page achieved, one frame in flight),
 * the worker's time per frame, and the page's long tasks (PerformanceObserver 'longtask') while
 * live: the loop must keep the frame budget (no task over 50 ms from it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { preview, type PreviewServer } from 'vite';
import { decodeJpeg } from '../src/node/jpegDecode';
import { fitPicture, y4mVideo } from '../src/node/y4m';
import { stats, type Stats } from './measure';

export interface LiveRow {
  model: string;
  backend: string;
  /** Maps per second over the measuring window (frames dropped, never queued). */
  mapsPerSecond?: number;
  frames?: number;
  seconds?: number;
  /** Worker time per frame (pixels → map), ms. */
  workerMs?: Stats;
  longTasks?: number;
  longestTaskMs?: number;
  tensorsBefore?: number;
  tensorsAfter?: number;
  error?: string;
}

export async function runLiveBench(opts: { root: string; shared: string; chromiumArgs: string[]; seconds: number; log(m: string): void }): Promise<LiveRow[]> {
  const { root, shared, log } = opts;
  const W = 320;
  const H = 240;
  const pic = (n: string) => fitPicture(decodeJpeg(fs.readFileSync(path.join(shared, 'images/photos', n))), W, H);
  const y4m = path.join(os.tmpdir(), `fusion-cam-bench-camera-${process.pid}.y4m`);
  fs.writeFileSync(y4m, y4mVideo([pic('dog.jpg'), pic('kite.jpg')], W, H, { framesEach: 45 }));
  const server: PreviewServer = await preview({ root, configFile: path.join(root, 'vite.config.ts'), preview: { port: 4393, strictPort: false }, logLevel: 'warn' });
  const base = server.resolvedUrls?.local[0] ?? 'http://localhost:4393/';
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...opts.chromiumArgs, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
  });
  const rows: LiveRow[] = [];
  try {
    for (const model of ['mobilenet_v1_0.25_224', 'mobilenet_v1_0.75_224']) {
      const row: LiveRow = { model, backend: 'wasm' };
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      await page.addInitScript(() => {
        const w = window as unknown as { __liveBench: { longtasks: { start: number; duration: number }[] } };
        w.__liveBench = { longtasks: [] };
        try {
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) w.__liveBench.longtasks.push({ start: e.startTime, duration: e.duration });
          }).observe({ type: 'longtask', buffered: true });
        } catch {
          /* no longtask support */
        }
      });
      try {
        await page.goto(`${base}?model=${model}&backend=wasm&models=/models/`, { waitUntil: 'commit' });
        await page.getByText('Model ready').waitFor({ timeout: 120_000 });
        await page.getByRole('button', { name: 'Use camera' }).click();
        const live = () => page.evaluate(() => {
          const r = (window as unknown as { __fusionCamLive: { latest(): { seq: number; ms: number; numTensors: number } | null } }).__fusionCamLive.latest();
          return r ? { seq: r.seq, ms: r.ms, numTensors: r.numTensors, now: performance.now() } : null;
        });
        // warm-up: the first frames compile kernels
        await page.waitForFunction(() => ((window as unknown as { __fusionCamLive: { seq: number } }).__fusionCamLive.seq ?? 0) >= 5, null, { timeout: 180_000 });
        const first = (await live())!;
        const ms: number[] = [];
        let last = first.seq;
        const end = Date.now() + opts.seconds * 1000;
        let cur = first;
        while (Date.now() < end) {
          await page.waitForTimeout(40);
          const r = await live();
          if (r && r.seq !== last) {
            last = r.seq;
            ms.push(r.ms);
            cur = r;
          }
        }
        const tasks = await page.evaluate(({ t0, t1 }) => (window as unknown as { __liveBench: { longtasks: { start: number; duration: number }[] } }).__liveBench.longtasks.filter((t) => t.start >= t0 && t.start <= t1), { t0: first.now, t1: cur.now });
        row.frames = cur.seq - first.seq;
        row.seconds = Math.round(cur.now - first.now) / 1000;
        row.mapsPerSecond = Math.round((row.frames / row.seconds) * 10) / 10;
        row.workerMs = stats(ms);
        row.longTasks = tasks.length;
        row.longestTaskMs = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
        row.tensorsBefore = first.numTensors;
        row.tensorsAfter = cur.numTensors;
        log(`live ${model}: ${row.mapsPerSecond} maps/s, worker ${row.workerMs.median.toFixed(0)} ms median, ${row.longTasks} long tasks (longest ${row.longestTaskMs.toFixed(0)} ms)`);
        await page.getByRole('button', { name: 'Stop camera' }).click();
      } catch (e) {
        row.error = (e as Error).message.split('\n')[0];
        log(`live ${model} failed: ${row.error}`);
      } finally {
        await context.close();
      }
      rows.push(row);
    }
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(y4m, { force: true });
  }
  return rows;
}

export function liveMarkdown(rows: LiveRow[]): string[] {
  if (rows.length === 0) return [];
  const lines = ['', '### Live camera (fake camera, wasm)', '', '| model | maps/s | worker ms per frame, median / p95 | long tasks while live (longest) | tensors first → last frame |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const name = r.model.replace('mobilenet_v1_', 'MobileNet v1 ').replace('_224', '');
    if (r.error) lines.push(`| ${name} | failed: ${r.error} | | | |`);
    else lines.push(`| ${name} | ${r.mapsPerSecond} | ${r.workerMs!.median.toFixed(0)} / ${r.workerMs!.p95.toFixed(0)} | ${r.longTasks} (${r.longestTaskMs!.toFixed(0)} ms) | ${r.tensorsBefore} → ${r.tensorsAfter} |`);
  }
  return lines;
}
