/**
 * Export: a panel's overlay at the photo's original resolution, a side-by-side composite of all
 * panels with captions, and a JSON sidecar with everything needed to reproduce the picture.
 */
import { useAppStore } from './store';
import { colormapLut } from './colormaps';
import { blendOverlay, drawColorBar, resampleMap, valueRange } from './render';
import { fuseOnPage, PANEL_TITLES, shortLabel, type PanelId } from './derived';
import type { ExportReply, ExportRequest } from '../worker/exportWorker';
import { compareSidecar } from './compare';

/** Exports never allocate more than this many pixels (browser canvas limits). */
const MAX_EXPORT_PIXELS = 40_000_000;

/** The size the export worker renders a W×H photo at (its scaling rule, exportWorker.ts). */
export function exportSize(W: number, H: number): { width: number; height: number } {
  if (W * H <= MAX_EXPORT_PIXELS) return { width: W, height: H };
  const s = Math.sqrt(MAX_EXPORT_PIXELS / (W * H));
  return { width: Math.floor(W * s), height: Math.floor(H * s) };
}

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function stem(name: string | null): string {
  const base = (name ?? 'image').replace(/\.[^.]*$/, '');
  return base.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'image';
}

interface Snapshot {
  maps: Record<PanelId, Float32Array | null>;
  inputSize: [number, number];
}

function snapshot(): Snapshot {
  const s = useAppStore.getState();
  const stage = s.results.stage;
  const fusion = stage ? fuseOnPage(stage, s.settings.tau) : null;
  return {
    maps: {
      gradient: s.results.gradient?.map ?? null,
      region: s.results.region?.status === 'done' ? s.results.region.map : null,
      fusioncam: fusion?.map ?? null,
      denoised: stage?.denoised ?? null,
      combined: stage?.combined ?? null,
    },
    inputSize: s.model.info?.inputSize ?? [224, 224],
  };
}

function rangeFor(id: PanelId, snap: Snapshot, panels: PanelId[]): [number, number] {
  const { scale } = useAppStore.getState().settings;
  if (scale === 'shared') return valueRange(panels.map((p) => snap.maps[p]).filter((m): m is Float32Array => m !== null));
  return valueRange([snap.maps[id]!]);
}

export function visiblePanels(): PanelId[] {
  const s = useAppStore.getState();
  return s.settings.showIntermediate ? ['gradient', 'region', 'fusioncam', 'denoised', 'combined'] : ['gradient', 'region', 'fusioncam'];
}

/** The photo (orientation applied) decoded straight to `w`×`h` by the browser, off the page's thread. */
async function photoAt(w: number, h: number): Promise<ImageData> {
  const { input } = useAppStore.getState();
  if (!input.blob) throw new Error('No image loaded');
  const bitmap = await createImageBitmap(input.blob, { imageOrientation: 'from-image', resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  const ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, w, h);
}

/** The JSON sidecar: model, layer, class, method, every parameter and β, app version, time. */
export function sidecar(method: string): Record<string, unknown> {
  const s = useAppStore.getState();
  const { settings, results, model, input } = s;
  const c = results.gradient?.classIndex ?? results.predictions[0]?.index ?? null;
  const label = c !== null ? (model.info?.labels[c] ?? `class ${c}`) : null;
  const stage = results.stage;
  return {
    app: 'Fusion-CAM Studio',
    appVersion: __APP_VERSION__,
    time: new Date().toISOString(),
    image: { name: input.name, width: input.width, height: input.height },
    model: { id: model.info?.modelId ?? settings.modelId, name: model.info?.name ?? null, inputSize: model.info?.inputSize ?? null },
    layer: results.layer,
    backend: model.backend,
    class: { index: c, name: label, probability: c !== null ? (results.predictions.find((p) => p.index === c)?.probability ?? null) : null },
    method,
    // the maps fused: the chosen gradient method and region method, of the same variant
    gradientMethod: settings.gradientMethod,
    regionMethod: settings.regionMethod,
    variant: settings.variant,
    scoreCamVariant: settings.variant,
    theta: settings.theta,
    tau: settings.tau,
    weights: settings.weightsMode === 'manual' ? { mode: 'manual', gradientShare: settings.gamma } : { mode: 'auto' },
    betas: stage && stage.classIndex === c ? stage.betas : null,
    denoiseThreshold: stage && stage.classIndex === c ? stage.threshold : null,
    colormap: settings.colormap,
    opacity: settings.opacity,
    scale: settings.scale,
    topK: results.predictions.map((p) => ({ index: p.index, label: model.info?.labels[p.index] ?? null, probability: p.probability })),
    // the pinned explanation and how it is compared (null without a pin)
    compare: compareSidecar(),
  };
}

function canvasToPng(canvas: OffscreenCanvas): Promise<Blob> {
  return canvas.convertToBlob({ type: 'image/png' });
}

let exportWorker: Worker | null = null;
let exportSeq = 0;

/** Renders the overlay at full resolution in a worker (see exportWorker.ts). */
function renderFullResolution(req: Omit<ExportRequest, 'id'>): Promise<{ png: Blob; width: number; height: number }> {
  exportWorker ??= new Worker(new URL('../worker/exportWorker.ts', import.meta.url), { type: 'module', name: 'fusion-cam-export' });
  const w = exportWorker;
  const id = ++exportSeq;
  return new Promise((resolve, reject) => {
    const onMessage = (e: MessageEvent<ExportReply>) => {
      if (e.data.id !== id) return;
      w.removeEventListener('message', onMessage);
      if ('error' in e.data) reject(new Error(e.data.error));
      else resolve(e.data);
    };
    w.addEventListener('message', onMessage);
    w.postMessage({ ...req, id });
  });
}

/**
 * One panel's overlay at the photo's original resolution, plus its JSON sidecar. 'input' exports
 * the photo itself (orientation applied), as a PNG of the same size.
 */
export interface ExportResult {
  width: number;
  height: number;
  /** The photo's own size; `full` is false when the export had to be scaled down (canvas limits). */
  sourceWidth: number;
  sourceHeight: number;
  full: boolean;
}

export async function exportPanel(id: PanelId | 'input', what: 'png' | 'json' = 'png'): Promise<ExportResult> {
  const snap = snapshot();
  const map = id === 'input' ? new Float32Array(1) : snap.maps[id];
  const title = id === 'input' ? 'Input' : PANEL_TITLES[id];
  if (!map) throw new Error(`${title} is not ready yet`);
  const s = useAppStore.getState();
  if (!s.input.blob) throw new Error('No image loaded');
  // files are named by the method shown (dog.gradcam.png, dog.layercam.png), not by the panel slot
  const fileId = id === 'gradient' ? s.settings.gradientMethod : id === 'region' ? s.settings.regionMethod : id;
  const name = `${stem(s.input.name)}.${fileId}`;
  // one file per click: two downloads at once make Chrome ask for permission (issue 14, defect 10)
  if (what === 'json') {
    const { width, height } = exportSize(s.input.width, s.input.height);
    download(new Blob([JSON.stringify({ ...sidecar(title), export: { kind: 'panel', width, height } }, null, 2)], { type: 'application/json' }), `${name}.json`);
    return { width, height, sourceWidth: s.input.width, sourceHeight: s.input.height, full: width === s.input.width && height === s.input.height };
  }
  const { png, width, height } = await renderFullResolution({
    blob: s.input.blob,
    maxPixels: MAX_EXPORT_PIXELS,
    map,
    mapSize: id === 'input' ? [1, 1] : snap.inputSize,
    lut: colormapLut(s.settings.colormap),
    opacity: id === 'input' ? 0 : s.settings.opacity,
    range: id === 'input' ? [0, 1] : rangeFor(id, snap, visiblePanels()),
  });
  download(png, `${name}.png`);
  return { width, height, sourceWidth: s.input.width, sourceHeight: s.input.height, full: width === s.input.width && height === s.input.height };
}

/** All panels side by side with captions, a colour bar and the settings line, plus a sidecar. */
export async function exportAll(what: 'png' | 'json' = 'png'): Promise<void> {
  const snap = snapshot();
  const s = useAppStore.getState();
  const panels = visiblePanels().filter((p) => snap.maps[p]);
  if (panels.length === 0) throw new Error('Nothing to export yet');
  const cellW = Math.min(s.input.width, 640);
  const cellH = Math.max(1, Math.round((s.input.height * cellW) / s.input.width));
  const photo = await photoAt(cellW, cellH);
  const gap = 16;
  const capH = 44;
  const footH = 64;
  const cells = 1 + panels.length;
  const W = cells * cellW + (cells + 1) * gap;
  const H = capH + cellH + footH + gap;
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#15171c';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#e8eaed';
  ctx.font = '600 20px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  const lut = colormapLut(s.settings.colormap);
  const [h, w] = snap.inputSize;
  const titles = ['Input', ...panels.map((p) => PANEL_TITLES[p])];
  titles.forEach((t, i) => ctx.fillText(t, gap + i * (cellW + gap), capH / 2 + 4, cellW));
  ctx.putImageData(photo, gap, capH);
  panels.forEach((p, i) => {
    const [lo, hi] = rangeFor(p, snap, panels);
    const img = new ImageData(cellW, cellH);
    blendOverlay(img, resampleMap(snap.maps[p]!, h, w, cellW, cellH), photo.data, lut, s.settings.opacity, lo, hi);
    ctx.putImageData(img, gap + (i + 1) * (cellW + gap), capH);
  });
  const y = capH + cellH + 12;
  drawColorBar(ctx, lut, gap, y, Math.min(320, cellW), 14);
  ctx.font = '14px system-ui, sans-serif';
  ctx.fillStyle = '#b8bcc4';
  ctx.fillText('low', gap, y + 30);
  ctx.textAlign = 'right';
  ctx.fillText('high', gap + Math.min(320, cellW), y + 30);
  ctx.textAlign = 'left';
  const meta = sidecar('composite');
  const cls = meta.class as { name: string | null; probability: number | null };
  const line = `${s.model.info?.name ?? ''} · ${s.results.layer ?? ''} · ${cls.name ? shortLabel(cls.name) : ''}${cls.probability !== null ? ` (${(cls.probability * 100).toFixed(1)}%)` : ''} · ${s.settings.variant} · θ=${s.settings.theta} · τ=${s.settings.tau} · ${s.settings.colormap}`;
  ctx.fillText(line, gap + Math.min(320, cellW) + 24, y + 8, W - (gap + Math.min(320, cellW) + 24) - gap);
  const name = `${stem(s.input.name)}.all`;
  if (what === 'png') download(await canvasToPng(canvas), `${name}.png`);
  else download(new Blob([JSON.stringify({ ...meta, export: { kind: 'composite', panels: titles, width: W, height: H } }, null, 2)], { type: 'application/json' }), `${name}.json`);
}
