/** Markdown tables from bench/results.json (browser) or bench/results-node.json (Node). */
import type { EngineBenchResult, Stats } from './measure';

interface EngineRow {
  backend: string;
  model: string;
  error?: string;
  wasmThreads?: number;
  webglRenderer?: string;
  crossOriginIsolated?: boolean;
  load?: Stats;
  engine?: EngineBenchResult;
}
interface UiRow {
  backend: string;
  model: string;
  endToEnd?: Stats;
  thumbnails?: Stats & { layers: number };
  longestTaskMs?: number;
  longTasksOver100?: number;
  sliders?: Record<string, Stats & { presented: Stats }>;
  forwardPassesForTau?: number;
  forwardPassesForTheta?: number;
  allThetasReadyMs?: number;
  error?: string;
  notes: string[];
}
export interface Report {
  kind: string;
  date: string;
  /** Set when `--only ui` kept the engine rows of an earlier run: when those were measured. */
  engineDate?: string;
  /** Set when `--only engine` kept the app rows of an earlier run. */
  uiDate?: string;
  machine: { os: string; cpu: string; cores: number; memoryGB: number; loadAverage?: number[] };
  browser?: string;
  node?: string;
  tfjs: string;
  minutes?: number;
  engine: EngineRow[];
  ui?: UiRow[];
}

const ms = (s?: Stats) => (s && s.n > 0 ? `${fmt(s.median)} / ${fmt(s.p95)}` : '–');
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const short = (m: string) => m.replace('mobilenet_v1_', 'MobileNet v1 ').replace('_224', '');

export function toMarkdown(r: Report): string {
  const lines: string[] = [];
  lines.push(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGB} GB, ${r.machine.os}` + (r.machine.loadAverage ? ` (load average at the end ${r.machine.loadAverage.join(' / ')})` : ''));
  const when = (d: string) => `${d.slice(0, 16).replace('T', ' ')} UTC`;
  const dates = r.engineDate ? `engine tables ${when(r.engineDate)}, app table ${when(r.date)}` : r.uiDate ? `engine tables ${when(r.date)}, app table ${when(r.uiDate)}` : when(r.date);
  lines.push(`${r.browser ?? `Node ${r.node}`}, TF.js ${r.tfjs}, ${dates}. Times in ms, median / p95; image photos/dog.jpg.`);
  lines.push('');
  lines.push('| backend | model | load | forward b1 | forward per image (batch B) | Grad-CAM | Score-CAM ref | xplain | original | passes run / K | floor (K/B·t_B) | Score-CAM ÷ floor | Fusion-CAM | θ change | τ change | tensors before → after |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of r.engine) {
    const e = row.engine;
    const be = row.backend + (row.wasmThreads ? ` (${row.wasmThreads} thread${row.wasmThreads > 1 ? 's' : ''}${row.crossOriginIsolated ? ', isolated' : ''})` : '');
    if (!e) {
      lines.push(`| ${be} | ${short(row.model)} | ${row.error ?? 'no result'} |`);
      continue;
    }
    const perImage = Object.entries(e.forward.batchB)
      .map(([B, s]) => `${B}: ${fmt(s.perImage)}`)
      .join(', ');
    const sc = e.scoreCam;
    const passes = sc ? `${sc.reference?.forwardPasses ?? '–'} / ${e.channels}` : '–';
    const tensors = e.tensors ? `${e.tensors.before} → ${e.tensors.after} (${e.tensors.runs} runs)` : '–';
    lines.push(
      `| ${be} | ${short(row.model)} | ${ms(row.load)} | ${ms(e.forward.batch1)} | ${perImage} | ${ms(e.gradCam)} | ${ms(sc?.reference)} | ${ms(sc?.xplain)} | ${ms(sc?.original)} | ${passes} | ${e.floor ? `${e.floor.ms} (B=${e.floor.batchSize})` : '–'} | ${e.floor ? `**${e.floor.ratio.toFixed(2)}** (paired ${e.floor.ratioPaired?.toFixed(2) ?? '–'})${e.floor.ratioCpu ? ` (CPU time ${e.floor.ratioCpu.toFixed(2)})` : ''}` : '–'} | ${ms(e.fusionEndToEnd)} | ${ms(e.thetaRerun)} | ${ms(e.tau)} | ${tensors} |`,
    );
  }
  const layer = r.engine.filter((row) => row.engine?.forward.layerPath);
  if (layer.length) {
    lines.push('');
    lines.push('Layer-by-layer forward (before the fused rewrite) vs fused ops, per image:');
    lines.push('');
    lines.push('| backend | model | layer path b1 | fused b1 | layer path batch B | fused batch B |');
    lines.push('|---|---|---|---|---|---|');
    for (const row of layer) {
      const f = row.engine!.forward;
      const lp = f.layerPath!;
      lines.push(`| ${row.backend} | ${short(row.model)} | ${fmt(lp.batch1.median)} | ${fmt(f.batch1.median)} | ${fmt(lp.batchB.perImage)} (B=${lp.batchB.B}) | ${fmt(f.batchB[lp.batchB.B]?.perImage ?? NaN)} |`);
    }
  }
  if (r.ui?.length) {
    lines.push('');
    lines.push('The app, driven through its UI (engine in a Web Worker). Slider latency: input event → new pixels on the Fusion-CAM canvas (putImageData); "next frame" is input event → the animation-frame callbacks after that redraw (the rendering that shows it). Main-thread tasks are counted from the drop until the Fusion-CAM pixels and every layer thumbnail are drawn. θ (scored ahead): once every θ is ready (the helper worker scores them after a map is shown); θ on demand: a page with `?thetaAhead=0` (two batch-1 passes per change).');
    lines.push('');
    lines.push('| backend | model | dropped image → Fusion-CAM pixels | → all layer thumbnails drawn | longest main-thread task | tasks > 100 ms | τ | opacity | colormap | θ (scored ahead) | θ on demand | every θ scored ahead, after the drop | next frame p95: τ / opacity / colormap / θ | forward passes for 20 τ / θ changes |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const u of r.ui) {
      if (u.error && !u.endToEnd) {
        lines.push(`| ${u.backend} | ${short(u.model)} | ${u.error} |`);
        continue;
      }
      const s = u.sliders ?? {};
      lines.push(
        `| ${u.backend} | ${short(u.model)} | ${ms(u.endToEnd)} | ${u.thumbnails ? `${ms(u.thumbnails)} (${u.thumbnails.layers})` : '–'} | ${u.longestTaskMs ?? '–'} | ${u.longTasksOver100 ?? '–'} | ${ms(s.tau)} | ${ms(s.opacity)} | ${ms(s.colormap)} | ${ms(s.theta)} | ${ms(s.thetaOnDemand)} | ${u.allThetasReadyMs ?? '–'} | ${['tau', 'opacity', 'colormap', 'theta'].map((k) => (s[k] ? fmt(s[k].presented.p95) : '–')).join(' / ')} | ${u.forwardPassesForTau ?? '–'} / ${u.forwardPassesForTheta ?? '–'} |`,
      );
    }
  }
  const notes = [...r.engine.flatMap((row) => (row.engine?.notes ?? []).map((n) => `${row.backend} ${short(row.model)}: ${n}`)), ...(r.ui ?? []).flatMap((u) => u.notes.map((n) => `UI ${u.backend} ${short(u.model)}: ${n}`))];
  if (notes.length) {
    lines.push('');
    for (const n of notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}
