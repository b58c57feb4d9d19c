/**
 * The camera bar ("Use camera", picker, Freeze frame / Resume live, rate, errors) and, while
 * live, the live view: the video with the gradient-method map over it, in a figure captioned
 * with the method's name as for a photo. The top-5 list follows the camera (results.predictions).
 */
import { useId, useLayoutEffect, useRef } from 'react';
import { useAppStore } from '../store';
import { colormapLut } from '../colormaps';
import { blendOverlay, valueRange } from '../render';
import { shortLabel } from '../derived';
import { GRADIENT_METHOD_OPTIONS, gradientLabel } from '../methodChoice';
import { attachVideo, chooseCamera, freezeFrame, resumeLive, startCamera, stopCamera } from '../liveCamera';
import type { GradientMethodId } from '../../engine/methods/registry';
import type { LiveMapView } from '../store/live';
import '../live.css';

/** True while the camera view replaces the photo panels. */
export function useLiveActive(): boolean {
  return useAppStore((s) => s.live.status === 'live' || s.live.status === 'starting');
}

function LiveOverlay({ view, label }: { view: LiveMapView | null; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const colormap = useAppStore((s) => s.settings.colormap);
  const opacity = useAppStore((s) => s.settings.opacity);
  const [h, w] = view?.mapSize ?? [224, 224];
  useLayoutEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d', { willReadFrequently: true });
    if (!canvas || !ctx) return;
    if (!view) {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    // coloured at model resolution; the compositor stretches it over the video (whole-frame resize, no crop)
    const image = new ImageData(w, h);
    const [lo, hi] = valueRange([view.map]);
    blendOverlay(image, view.map, null, colormapLut(colormap), 1, lo, hi);
    ctx.putImageData(image, 0, 0);
  }, [view, colormap, w, h]);
  return <canvas ref={ref} width={w} height={h} role="img" aria-label={label} className="live-overlay" style={{ opacity }} />;
}

function LiveView() {
  const live = useAppStore((s) => s.live);
  const method = useAppStore((s) => s.settings.gradientMethod);
  const labels = useAppStore((s) => s.model.info?.labels);
  const view = live.latest;
  const title = gradientLabel(view?.method ?? method);
  const className = view ? shortLabel(labels?.[view.classIndex] ?? `class ${view.classIndex}`) : '';
  return (
    <section className="panels live-panels" aria-label="Live camera">
      <figure className="panel live-panel" data-panel="live">
        <figcaption>{title}</figcaption>
        <div className="canvas-wrap live-stage">
          <video ref={attachVideo} className="live-video" muted playsInline aria-label="Camera picture" />
          <LiveOverlay view={view} label={`${title} heatmap, live${className ? ` for ${className}` : ''}`} />
          {live.paused && <div className="panel-overlay">Camera paused while the tab is hidden</div>}
        </div>
        <div className="panel-foot">
          <span className="muted small panel-status">{view ? `${className} · class ${view.classIndex} · ${view.layer}` : live.status === 'starting' ? 'starting the camera…' : 'waiting for the first map…'}</span>
        </div>
        {view && view.warnings.length > 0 && (
          <ul className="notes warn">
            {view.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
      </figure>
    </section>
  );
}

function CameraBar() {
  const pickerId = useId();
  const methodId = useId();
  const live = useAppStore((s) => s.live);
  const method = useAppStore((s) => s.settings.gradientMethod);
  const setSettings = useAppStore((s) => s.setSettings);
  const on = live.status === 'live' || live.status === 'starting';
  return (
    <section className="camera-bar" aria-label="Camera controls">
      {live.status === 'off' && (
        <button type="button" onClick={() => startCamera()}>
          Use camera
        </button>
      )}
      {live.status === 'live' && (
        <button type="button" disabled={!live.latest || live.paused} onClick={() => void freezeFrame()}>
          Freeze frame
        </button>
      )}
      {live.status === 'frozen' && (
        <button type="button" onClick={resumeLive}>
          Resume live
        </button>
      )}
      {(on || live.status === 'frozen') && (
        <button type="button" className="secondary" onClick={stopCamera}>
          {on ? 'Stop camera' : 'Close camera'}
        </button>
      )}
      {on && live.cameras.length > 1 && (
        <span className="camera-field">
          <label htmlFor={pickerId}>Camera</label>
          <select id={pickerId} value={live.deviceId ?? ''} onChange={(e) => chooseCamera(e.currentTarget.value)}>
            {live.cameras.map((c) => (
              <option key={c.deviceId} value={c.deviceId}>
                {c.label}
              </option>
            ))}
          </select>
        </span>
      )}
      {on && (
        <span className="camera-field">
          <label htmlFor={methodId}>Live map method</label>
          <select id={methodId} value={method} onChange={(e) => setSettings({ gradientMethod: e.currentTarget.value as GradientMethodId })}>
            {GRADIENT_METHOD_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </span>
      )}
      {live.status === 'live' && (
        <output className="live-rate" aria-label="Live map rate">
          {live.paused ? 'paused' : live.rate !== null ? `${live.rate.toFixed(1)} maps/s` : '…'}
        </output>
      )}
      {live.status === 'frozen' && <span className="muted small">The frozen frame is the image: every map, slider, export and metric works on it.</span>}
      {live.error && (
        <p className="error" role="alert">
          {live.error}
        </p>
      )}
    </section>
  );
}

/** Mount point: the camera bar, and the live view while the camera runs. */
export function LiveCamera() {
  const active = useLiveActive();
  return (
    <>
      <CameraBar />
      {active && <LiveView />}
    </>
  );
}
