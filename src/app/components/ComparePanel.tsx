/**
 * Compare: "Pin" keeps the current explanation; the pinned and the current explanation are then
 * shown side by side (one column each, the same three methods in each), optionally on one shared
 * colour scale, with a difference map (current − pinned) on a diverging colormap.
 */
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useAppStore } from '../store';
import { colormapLut } from '../colormaps';
import { blendOverlay, valueRange } from '../render';
import { gradientLabel, regionLabel } from '../methodChoice';
import { currentAtSize, currentExplanation, differenceMap, pinCurrent, startCompare, unpin } from '../compare';
import type { PinSpec, PinnedExplanation } from '../store/compare';
import '../compare.css';

type Maps = PinnedExplanation['maps'];
const ROWS: (keyof Maps)[] = ['gradient', 'region', 'fusion'];

/** Blue – white – red (diverging): negative blue, zero white, positive red. */
const DIVERGING_LUT = (() => {
  const lut = new Uint8Array(256 * 3);
  const blue = [59, 76, 192];
  const white = [245, 245, 245];
  const red = [180, 4, 38];
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [a, b, u] = t < 0.5 ? [blue, white, t / 0.5] : [white, red, (t - 0.5) / 0.5];
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(a[c] + (b[c] - a[c]) * u);
  }
  return lut;
})();

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.001 ? v.toFixed(3) : v.toExponential(2));
const signed = (v: number) => (v > 0 ? `+${fmt(v)}` : v < 0 ? `−${fmt(-v)}` : '0');

function methodName(row: keyof Maps, spec: PinSpec): string {
  return row === 'gradient' ? gradientLabel(spec.gradientMethod) : row === 'region' ? regionLabel(spec.regionMethod) : 'Fusion-CAM';
}

export function describeSpec(modelName: string, spec: PinSpec, className: string): string {
  return `${modelName} · ${spec.layer} · ${className} · ${spec.variant}`;
}

function MapCanvas({ label, photo, map, width, height, lut, opacity, range }: { label: string; photo: ImageData | null; map: Float32Array; width: number; height: number; lut: Uint8Array; opacity: number; range: [number, number] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const ctx = ref.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    const img = new ImageData(width, height);
    blendOverlay(img, map, photo ? photo.data : null, lut, photo ? opacity : 1, range[0], range[1]);
    ctx.putImageData(img, 0, 0);
  }, [photo, map, width, height, lut, opacity, range]);
  return <canvas ref={ref} width={width} height={height} role="img" aria-label={label} className="compare-canvas" style={{ aspectRatio: `${width} / ${height}` }} />;
}

export function ComparePanel() {
  useEffect(startCompare, []);
  const compare = useAppStore((s) => s.compare);
  const setCompare = useAppStore((s) => s.setCompare);
  const setUi = useAppStore((s) => s.setUi);
  const colormap = useAppStore((s) => s.settings.colormap);
  const opacity = useAppStore((s) => s.settings.opacity);
  // re-derived when any result changes; cheap (no map copies)
  const results = useAppStore((s) => s.results);
  const input = useAppStore((s) => s.input);
  const model = useAppStore((s) => s.model);
  const tau = useAppStore((s) => s.settings.tau);
  const cur = useMemo(() => currentExplanation(), [results, input, model, tau]); // eslint-disable-line react-hooks/exhaustive-deps
  const pinned = compare.pinned;
  const lut = useMemo(() => colormapLut(colormap), [colormap]);

  const view = useMemo(() => {
    if (!pinned) return null;
    const pw = pinned.photo.width;
    const ph = pinned.photo.height;
    const current = cur ? currentAtSize(cur, cur.photo.width, cur.photo.height) : null;
    const all = [...ROWS.map((r) => pinned.maps[r]), ...(current ? ROWS.map((r) => current[r]) : [])];
    const shared = valueRange(all);
    const diffs = current
      ? ROWS.map((r) => {
          const d = differenceMap(current[r], pinned.maps[r], [cur!.photo.height, cur!.photo.width], [ph, pw]);
          const [lo, hi] = valueRange([d]);
          const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
          return { map: d, lo, hi, m };
        })
      : null;
    return { current, shared, diffs };
  }, [pinned, cur]);

  const range = (m: Float32Array): [number, number] => (compare.sharedScale && view ? view.shared : valueRange([m]));

  return (
    <section className="compare card" aria-label="Compare">
      <div className="compare-bar">
        <h2>Compare</h2>
        <button
          type="button"
          disabled={!cur || compare.recomputing}
          onClick={() => {
            if (pinCurrent()) setUi({ notice: 'Explanation pinned: change the layer, class, model or variant to compare.' });
          }}
        >
          {pinned ? 'Pin current instead' : 'Pin'}
        </button>
        {pinned && (
          <>
            <button type="button" className="secondary" onClick={unpin}>
              Unpin
            </button>
            <span className="field checkbox">
              <input id="compare-shared" type="checkbox" checked={compare.sharedScale} onChange={(e) => setCompare({ sharedScale: e.currentTarget.checked })} />
              <label htmlFor="compare-shared">Shared colour scale</label>
            </span>
            <span className="field checkbox">
              <input id="compare-diff" type="checkbox" checked={compare.difference} onChange={(e) => setCompare({ difference: e.currentTarget.checked })} />
              <label htmlFor="compare-diff">Difference map</label>
            </span>
          </>
        )}
        {compare.recomputing && <span className="muted small">Recomputing the pinned explanation from the link…</span>}
        {compare.pending && !pinned && !compare.recomputing && <span className="muted small">The link has a pinned explanation: it is recomputed once this image&apos;s maps are ready.</span>}
        {!pinned && !compare.pending && <span className="muted small">Pin an explanation, then change the layer, the class, the model or the variant to see both side by side.</span>}
      </div>
      {pinned && view && (
        <>
          <p className="muted small" aria-label="Colour scale">
            {compare.sharedScale ? `Shared colour scale over both columns: ${fmt(view.shared[0])} – ${fmt(view.shared[1])}` : 'Colour scale: each map on its own range (min–max)'}
          </p>
          <div className={`compare-grid cols-${compare.difference && view.diffs ? 3 : 2}`}>
            <figure className="compare-col">
              <figcaption>Pinned: {describeSpec(pinned.modelName, pinned.spec, pinned.className)}</figcaption>
              {ROWS.map((r) => (
                <div className="compare-cell" key={r}>
                  <div className="compare-method">{methodName(r, pinned.spec)}</div>
                  <MapCanvas label={`Pinned ${methodName(r, pinned.spec)} map`} photo={pinned.photo} map={pinned.maps[r]} width={pinned.photo.width} height={pinned.photo.height} lut={lut} opacity={opacity} range={range(pinned.maps[r])} />
                </div>
              ))}
            </figure>
            <figure className="compare-col">
              <figcaption>Current: {cur ? describeSpec(cur.modelName, cur.spec, cur.className) : 'computing…'}</figcaption>
              {ROWS.map((r) => (
                <div className="compare-cell" key={r}>
                  <div className="compare-method">{cur ? methodName(r, cur.spec) : ''}</div>
                  {cur && view.current ? (
                    <MapCanvas label={`Current ${methodName(r, cur.spec)} map`} photo={cur.photo} map={view.current[r]} width={cur.photo.width} height={cur.photo.height} lut={lut} opacity={opacity} range={range(view.current[r])} />
                  ) : (
                    <div className="placeholder">computing…</div>
                  )}
                </div>
              ))}
            </figure>
            {compare.difference && view.diffs && cur && (
              <figure className="compare-col">
                <figcaption>Difference: current − pinned (blue negative, white 0, red positive)</figcaption>
                {ROWS.map((r, i) => {
                  const d = view.diffs![i];
                  return (
                    <div className="compare-cell" key={r}>
                      <div className="compare-method" aria-label={`${methodName(r, cur.spec)} difference range`}>
                        {methodName(r, cur.spec)} − {methodName(r, pinned.spec)}: {signed(d.lo)} … {signed(d.hi)} (scale ±{fmt(d.m)})
                      </div>
                      <MapCanvas label={`Difference ${methodName(r, cur.spec)} map`} photo={null} map={d.map} width={cur.photo.width} height={cur.photo.height} lut={DIVERGING_LUT} opacity={1} range={[-d.m, d.m]} />
                    </div>
                  );
                })}
              </figure>
            )}
          </div>
        </>
      )}
    </section>
  );
}

/** Test hooks: the pinned and current maps at display size. */
if (typeof window !== 'undefined' && !('__fusionCamCompare' in window)) {
  Object.defineProperty(window, '__fusionCamCompare', {
    value: Object.freeze({
      pinned: () => useAppStore.getState().compare.pinned,
      current: () => {
        const cur = currentExplanation();
        return cur ? { spec: cur.spec, maps: currentAtSize(cur, cur.photo.width, cur.photo.height), width: cur.photo.width, height: cur.photo.height } : null;
      },
    }),
    configurable: false,
    writable: false,
  });
}
