/**
 * The three maps in one row (Grad-CAM | Score-CAM | Fusion-CAM), each a figure captioned by its
 * method, with its own state said in the panel: computing (progress, time left, Cancel, the
 * partial map marked as partial), cancelled (partial map kept and marked, Resume), a flat map,
 * an error. θ and τ sit under the Fusion-CAM they change. Hovering, tapping or arrow keys move
 * one probe shared by every map (linked inspection).
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';
import { useAppStore } from '../store';
import { HeatmapCanvas } from './HeatmapCanvas';
import { ErrorBoundary } from './ErrorBoundary';
import { PANEL_TITLES, agreementMap, shortLabel, useFusion, usePanelMaps, useTargetClass, type PanelId } from '../derived';
import { nonFiniteMessage, valueRange } from '../render';
import { exportPanel } from '../export';
import { cancelRegion, startRegion } from '../engineClient';
import { panelTitle } from '../methodChoice';
import { isConstant } from '../../engine/maps';
import { FusionSliders } from './Sidebar';

const DEFAULT_INPUT_SIZE: [number, number] = [224, 224];

/** One plain sentence per map: what it shows. */
export const MAP_BLURBS: Record<'gradient' | 'region' | 'fusioncam', string> = {
  gradient: 'Where a small change would move the score most (one backward pass: fast, but coarse and noisy).',
  region: 'Which regions, shown to the model alone, keep its confidence (one masked pass per channel: slow, clean).',
  fusioncam: 'Both maps blended by how much each helps: kept where they agree, averaged where they differ.',
};

export function ExportButton({ id, ready, what = 'png' }: { id: PanelId | 'input'; ready: boolean; what?: 'png' | 'json' }) {
  const [busy, setBusy] = useState(false);
  const setUi = useAppStore((s) => s.setUi);
  const settings = useAppStore((s) => s.settings);
  const title = id === 'input' ? 'Input' : panelTitle(id, settings, PANEL_TITLES[id]);
  return (
    <button
      type="button"
      className={what === 'json' ? 'ghost-btn small-btn' : 'secondary small-btn'}
      aria-label={what === 'json' ? 'Export JSON' : undefined}
      title={what === 'json' ? 'The settings and weights that reproduce this map (JSON sidecar)' : undefined}
      disabled={!ready || busy}
      onClick={() => {
        setBusy(true);
        exportPanel(id, what)
          .then(({ width, height, full, sourceWidth, sourceHeight }) =>
            setUi({
              notice: what === 'json'
                ? `${title} settings and weights exported (JSON).`
                : full
                ? `${title} exported at the photo's full resolution, ${width}×${height}.`
                : `${title} exported at ${width}×${height}: the photo (${sourceWidth}×${sourceHeight}) is larger than a browser canvas allows, so it was scaled down.`,
            }),
          )
          .catch((e: unknown) => setUi({ notice: `Export failed: ${(e as Error).message}` }))
          .finally(() => setBusy(false));
      }}
    >
      {what === 'json' ? 'JSON' : 'Export PNG'}
    </button>
  );
}

/** Seconds left, from the rate since the first progress reply (the first batch includes warm-up). */
function timeLeft(r: { done: number; total: number; progressAt?: number; firstProgress?: { done: number; at: number } } | null): number | null {
  if (!r || !r.firstProgress || r.progressAt === undefined || r.total <= 0) return null;
  const n = r.done - r.firstProgress.done;
  const dt = (r.progressAt - r.firstProgress.at) / 1000;
  return n > 0 && dt > 0 ? (r.total - r.done) / (n / dt) : null;
}

const pct = (done: number, total: number) => (total > 0 ? Math.round((100 * done) / total) : 0);
const fmtLeft = (s: number | null) => (s === null ? 'estimating time left…' : s < 1.5 ? 'about 1 s left' : s < 90 ? `about ${Math.round(s)} s left` : `about ${Math.round(s / 60)} min left`);

/** The probe shared by every map: a position in [0, 1)², or null. */
export function useProbe(): { x: number; y: number } | null {
  return useAppStore((s) => s.ui.probe);
}

function valueAt(map: Float32Array | null, size: [number, number], p: { x: number; y: number } | null, range: [number, number]): number | null {
  if (!map || !p) return null;
  const [h, w] = size;
  const i = Math.min(h - 1, Math.floor(p.y * h)) * w + Math.min(w - 1, Math.floor(p.x * w));
  const v = map[i];
  if (!Number.isFinite(v)) return null;
  const [lo, hi] = range;
  return hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0;
}

/** The canvas area: the map, the crosshair, and whatever the panel must say over it. */
export function MapCanvas(props: {
  title: string;
  label: string;
  map: Float32Array | null;
  range: [number, number];
  dim?: boolean;
  overlay?: ReactNode;
  badge?: ReactNode;
  inspect?: boolean;
}) {
  const photo = useAppStore((s) => s.input.photo);
  const settings = useAppStore((s) => s.settings);
  const inputSize = useAppStore((s) => s.model.info?.inputSize ?? DEFAULT_INPUT_SIZE);
  const probe = useProbe();
  const setUi = useAppStore((s) => s.setUi);
  const { title, label, map, range, dim, overlay, badge, inspect = true } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState<[number, number]>([0, 0]);
  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox([el.clientWidth, el.clientHeight]));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // the photo is drawn 'contain' in the box: where it sits, for the pointer and the crosshair
  const aspect = photo ? photo.width / photo.height : 1;
  const [bw, bh] = box;
  const iw = bw / bh > aspect ? bh * aspect : bw;
  const ih = bw / bh > aspect ? bh : bw / aspect;
  const ox = (bw - iw) / 2;
  const oy = (bh - ih) / 2;
  const move = (e: PointerEvent<HTMLDivElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = (e.clientX - r.left - ox) / iw;
    const y = (e.clientY - r.top - oy) / ih;
    if (x >= 0 && x < 1 && y >= 0 && y < 1) setUi({ probe: { x, y } });
  };
  const key = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 0.1 : 1 / 28;
    const p = probe ?? { x: 0.5, y: 0.5 };
    const d: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === 'Escape') {
      setUi({ probe: null });
      return;
    }
    const m = d[e.key];
    if (!m) return;
    e.preventDefault();
    const clamp = (v: number) => Math.min(0.999, Math.max(0, v));
    setUi({ probe: { x: clamp(p.x + m[0]), y: clamp(p.y + m[1]) } });
  };
  const canInspect = inspect && photo !== null && map !== null;
  return (
    <div
      ref={wrap}
      className="canvas-wrap"
      onPointerMove={canInspect ? move : undefined}
      onPointerDown={canInspect ? move : undefined}
      onKeyDown={canInspect ? key : undefined}
      tabIndex={canInspect ? 0 : undefined}
      role={canInspect ? 'group' : undefined}
      aria-label={canInspect ? `${title}: inspect with the arrow keys` : undefined}
    >
      {photo ? (
        <HeatmapCanvas label={label} photo={photo} map={map} mapSize={inputSize} colormap={settings.colormap} opacity={settings.opacity} range={range} dim={dim} />
      ) : (
        <div className="placeholder">…</div>
      )}
      {canInspect && probe && <span className="crosshair" aria-hidden="true" style={{ left: ox + probe.x * iw, top: oy + probe.y * ih }} />}
      {badge && <div className="panel-badge">{badge}</div>}
      {overlay && <div className="panel-overlay">{overlay}</div>}
    </div>
  );
}

interface PanelView {
  id: PanelId;
  title: string;
  map: Float32Array | null;
  state: 'computing' | 'partial' | 'cancelled' | 'waiting' | 'done' | 'flat' | 'error' | 'idle';
  dim?: boolean;
  overlay?: ReactNode;
  badge?: ReactNode;
  foot: string;
  notes: string[];
}

export function Panels() {
  const hasImage = useAppStore((s) => s.input.blob !== null);
  const decoding = useAppStore((s) => s.input.decoding);
  const settings = useAppStore((s) => s.settings);
  const results = useAppStore((s) => s.results);
  const inputSize = useAppStore((s) => s.model.info?.inputSize ?? DEFAULT_INPUT_SIZE);
  const modelStatus = useAppStore((s) => s.model.status);
  const probe = useProbe();
  const maps = usePanelMaps();
  const fusion = useFusion();
  const target = useTargetClass();
  const region = results.region;
  const running = region?.status === 'running';
  const cancelled = region?.status === 'cancelled';
  const stage = results.stage;
  const className = target ? shortLabel(target.label) : '';
  const left = running ? timeLeft(region) : null;
  const ids: PanelId[] = ['gradient', 'region', 'fusioncam'];
  const shared = useMemo(() => valueRange(ids.map((i) => maps[i]).filter((m): m is Float32Array => m !== null)), [maps.gradient, maps.region, maps.fusioncam]); // eslint-disable-line react-hooks/exhaustive-deps
  const agreement = useMemo(() => (stage ? agreementMap(stage, settings.tau) : null), [stage, settings.tau]);
  const gTitle = panelTitle('gradient', settings, PANEL_TITLES.gradient);
  const rTitle = panelTitle('region', settings, PANEL_TITLES.region);
  const waitingForModel = modelStatus !== 'ready';
  const computingText = decoding ? 'Reading the photo…' : waitingForModel ? 'Waiting for the model…' : 'Computing…';

  const views: PanelView[] = ids.map((id) => {
    const title = panelTitle(id, settings, PANEL_TITLES[id]);
    const raw = maps[id];
    const problem = raw ? nonFiniteMessage(raw) : null;
    const map = problem ? null : raw;
    const base: PanelView = { id, title, map, state: 'idle', foot: '', notes: [] };
    if (id === 'gradient') {
      if (results.gradientError) return { ...base, map: null, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{results.gradientError}</p>, foot: 'failed' };
      if (problem) return { ...base, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{problem}</p>, foot: 'failed' };
      if (!map) return { ...base, state: 'computing', dim: true, overlay: <p className="panel-msg"><span className="spinner" aria-hidden="true" /> {computingText}</p>, foot: '' };
      const flat = isConstant(map);
      return {
        ...base,
        state: flat ? 'flat' : 'done',
        overlay: flat ? <p className="panel-msg warn-msg">{gTitle} is flat here: every pixel has the same value, so it points nowhere. Try a deeper layer or another class.</p> : undefined,
        // the ImageNet index is what a researcher cross-checks against another tool
        foot: results.gradient ? `one backward pass · class ${results.gradient.classIndex}` : 'one backward pass',
        notes: results.gradient?.warnings.filter((w) => !/constant/i.test(w)) ?? [],
      };
    }
    if (id === 'region') {
      if (results.regionError) return { ...base, map: null, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{results.regionError}</p>, foot: 'failed' };
      if (problem) return { ...base, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{problem}</p>, foot: 'failed' };
      if (running) {
        const p = pct(region!.done, region!.total);
        return {
          ...base,
          state: map ? 'partial' : 'computing',
          dim: !map,
          badge: map ? <span>Partial map · {p} % of channels</span> : undefined,
          overlay: (
            <div className="progress-box">
              <div className="progress-row">
                <progress aria-label={`${title} progress`} max={Math.max(1, region!.total)} value={region!.done} />
                <span className="small">{region!.total > 0 ? `${region!.done} / ${region!.total} masked passes · ${fmtLeft(left)}` : 'starting…'}</span>
              </div>
              <button type="button" className="danger" onClick={cancelRegion}>
                Cancel
              </button>
            </div>
          ),
          foot: '',
        };
      }
      if (cancelled) {
        const p = pct(region!.done, region!.total);
        return {
          ...base,
          state: 'cancelled',
          dim: !map,
          badge: <span>Stopped at {p} % · partial map</span>,
          overlay: (
            <div className="progress-box">
              <span className="small">Cancelled after {region!.done} of {region!.total} masked passes. This partial map is not the final {title}.</span>
              <button type="button" onClick={startRegion}>
                Resume
              </button>
            </div>
          ),
          foot: 'stopped',
        };
      }
      if (!map) return { ...base, state: 'computing', dim: true, overlay: <p className="panel-msg"><span className="spinner" aria-hidden="true" /> {computingText}</p> };
      const flat = region?.status === 'done' && isConstant(map);
      return {
        ...base,
        state: flat ? 'flat' : 'done',
        overlay: flat ? <p className="panel-msg warn-msg">{title} is flat at this layer: no region, shown alone, raised the class score, so the map is constant. Fusion-CAM then follows {gTitle}.</p> : undefined,
        // the time first: a narrow panel cuts the end of the line (the whole line is its tooltip)
        foot: region?.status === 'done' ? `${((region.ms ?? 0) / 1000).toFixed(1)} s · ${region.total} masked passes${region.helperPasses ? ` (${region.helperPasses} on a second worker)` : ''}` : '',
      };
    }
    // Fusion-CAM
    if (results.stageError) return { ...base, map: null, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{results.stageError}</p>, foot: 'failed' };
    if (problem) return { ...base, state: 'error', overlay: <p className="panel-msg error-msg" role="alert">{problem}</p>, foot: 'failed' };
    if (running)
      return { ...base, map: null, state: 'waiting', dim: true, overlay: <p className="panel-msg">Waits for {rTitle}: {pct(region!.done, region!.total)} % done.</p> };
    if (cancelled)
      return {
        ...base,
        map: null,
        state: 'cancelled',
        dim: true,
        overlay: (
          <div className="progress-box">
            <span className="small">Fusion-CAM needs the full {rTitle}, which was cancelled.</span>
            <button type="button" className="secondary" onClick={startRegion}>
              Resume {rTitle}
            </button>
          </div>
        ),
        foot: 'not computed',
      };
    if (!map) return { ...base, state: 'computing', dim: true, overlay: <p className="panel-msg"><span className="spinner" aria-hidden="true" /> {region?.status === 'done' ? 'Fusing…' : computingText}</p> };
    const flat = isConstant(map);
    return {
      ...base,
      state: flat ? 'flat' : 'done',
      overlay: flat ? <p className="panel-msg warn-msg">Fusion-CAM is flat: both maps it fuses carry no usable signal here.</p> : undefined,
      foot: stage ? `θ ${stage.theta} · τ ${settings.tau.toFixed(2)}` : '',
      // the region map's own warnings are said in its panel
      notes: (fusion?.warnings ?? []).filter((w) => !/constant/i.test(w) && !(results.gradient?.warnings ?? []).includes(w)),
    };
  });

  if (!hasImage) return null;
  return (
    <div className="maps-row" role="group" aria-label="Explanations">
      {views.map((v) => {
        const range: [number, number] = settings.scale === 'shared' ? shared : v.map ? valueRange([v.map]) : [0, 1];
        const ready = v.state === 'done' || v.state === 'flat';
        const value = valueAt(v.map, inputSize, probe, range);
        return (
          <ErrorBoundary key={v.id} name={v.title}>
            <figure className="map-panel" data-panel={v.id} data-state={v.state} aria-busy={v.state === 'computing' || v.state === 'partial' || v.state === 'waiting' || undefined}>
              <figcaption>{v.title}</figcaption>
              <p className="map-blurb">{MAP_BLURBS[v.id as 'gradient']}</p>
              <MapCanvas title={v.title} label={`${v.title} heatmap${className ? ` for ${className}` : ''}`} map={v.state === 'waiting' ? null : v.map} range={range} dim={v.dim} overlay={v.overlay} badge={v.badge} />
              <div className="panel-foot">
                <span className="small muted panel-status" data-testid={`status-${v.id}`} title={v.foot || undefined}>
                  {probe && value !== null ? (
                    <span className="probe-value">
                      here: <strong>{value.toFixed(2)}</strong>
                      {v.id === 'fusioncam' && agreement && stage ? (
                        <>
                          {' '}
                          · agreement {valueAt(agreement, inputSize, probe, [0, 1])!.toFixed(2)}
                        </>
                      ) : null}
                    </span>
                  ) : (
                    v.foot
                  )}
                </span>
                <span className="foot-buttons">
                  <ExportButton id={v.id} ready={ready} what="json" />
                  <ExportButton id={v.id} ready={ready} />
                </span>
              </div>
              {v.notes.length > 0 && (
                <ul className="notes warn">
                  {v.notes.map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
              )}
              {v.id === 'fusioncam' && <FusionSliders />}
            </figure>
          </ErrorBoundary>
        );
      })}
    </div>
  );
}

/** Clears the probe when the image changes. */
export function useProbeReset(): void {
  const gen = useAppStore((s) => s.input.gen);
  const setUi = useAppStore((s) => s.setUi);
  useEffect(() => setUi({ probe: null }), [gen, setUi]);
}
