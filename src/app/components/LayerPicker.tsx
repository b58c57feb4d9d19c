/**
 * The layer picker: every candidate layer (4-D output larger than 1×1) with its operation and
 * shape, and a small Grad-CAM of the current image and class at that layer, so the user sees how
 * the explanation changes with depth. A radio group: arrow keys move between layers without
 * recomputing; the explanation re-runs on Enter, after a short pause, or at once on a click.
 */
import { memo, useCallback, useDeferredValue, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useAppStore } from '../store';
import { colormapLut, type ColormapId } from '../colormaps';
import { blendOverlay, resampleMap } from '../render';
import { forgetCanvas, queueDraw } from '../drawQueue';
import type { LayerThumb } from '../store/modelSource';
import type { LayerInfo } from '../../engine/model/camModel';
import '../models.css';

const THUMB_WIDTH = 120;
const THUMB_OPACITY = 0.6;
/** Quiet time after the last arrow key before the picked layer is explained. */
export const LAYER_PAUSE_MS = 1200;

/** Long GraphModel node names: the part that names the layer ("…/Conv2d_13_pointwise/Relu6" → "Conv2d_13_pointwise"; the op is shown below). */
function shortName(name: string, op: string): string {
  const parts = name.split('/');
  return parts.length > 1 && parts[parts.length - 1] === op ? parts[parts.length - 2] : parts[parts.length - 1];
}

/** The display photo scaled down once per image, as the thumbnails' background. */
function usePhotoBitmap(photo: ImageData | null): ImageBitmap | null {
  const [got, setGot] = useState<{ photo: ImageData; bitmap: ImageBitmap } | null>(null);
  useEffect(() => {
    if (!photo) return;
    let live = true;
    createImageBitmap(photo).then(
      (bitmap) => (live ? setGot({ photo, bitmap }) : bitmap.close()),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [photo]);
  return got && got.photo === photo ? got.bitmap : null;
}

function Thumbnail({ thumb, bitmap, aspect, colormap, label }: { thumb: LayerThumb | undefined; bitmap: ImageBitmap | null; aspect: number; colormap: ColormapId; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const W = THUMB_WIDTH;
  const H = Math.max(1, Math.round(W / aspect));
  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    // drawn from the shared queue (on-screen tiles first), not inside this commit
    return queueDraw(canvas, () => {
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) return;
      ctx.clearRect(0, 0, W, H);
      if (bitmap) ctx.drawImage(bitmap, 0, 0, W, H);
      const hasMap = !!thumb && !thumb.error && thumb.map.length > 0;
      if (hasMap) {
        const out = ctx.getImageData(0, 0, W, H);
        const photo = bitmap ? new Uint8ClampedArray(out.data) : null;
        blendOverlay(out, resampleMap(thumb.map, thumb.size[0], thumb.size[1], W, H), photo, colormapLut(colormap), THUMB_OPACITY, 0, 1);
        ctx.putImageData(out, 0, 0);
      }
      // what the canvas shows now: tests read pixels only once the map is on it
      canvas.dataset.drawn = hasMap ? 'map' : bitmap ? 'photo' : 'empty';
    });
  }, [thumb, bitmap, colormap, W, H]);
  useEffect(() => {
    const canvas = ref.current;
    return () => {
      if (canvas) forgetCanvas(canvas);
    };
  }, []);
  const state = !thumb ? 'pending' : thumb.error ? 'error' : 'ready';
  return (
    <span className={`layer-thumb ${state}`}>
      <canvas ref={ref} width={W} height={H} role="img" aria-label={label} data-state={state} />
      {thumb?.error && <span className="layer-thumb-note">no gradient</span>}
      {thumb && !thumb.error && thumb.allZero && <span className="layer-thumb-note">all negative</span>}
    </span>
  );
}

interface LayerOptionProps {
  layer: LayerInfo;
  group: string;
  checked: boolean;
  isDefault: boolean;
  thumb: LayerThumb | undefined;
  bitmap: ImageBitmap | null;
  aspect: number;
  colormap: ColormapId;
  onPick(layer: string): void;
}

/**
 * One tile. Memoised: a thumbnail arriving re-renders its own tile only — re-rendering all
 * ~60 radios on every arrival made React re-set each radio's name, and the browser re-walk
 * the radio group each time (tens of ms per arrival on MobileNet).
 */
const LayerOption = memo(function LayerOption({ layer: l, group, checked, isDefault, thumb: t, bitmap, aspect, colormap, onPick }: LayerOptionProps) {
  const desc = `${l.className} · ${l.shape[0]}×${l.shape[1]}×${l.shape[2]}`;
  return (
    <label className={checked ? 'layer-option checked' : 'layer-option'} title={`${l.name}\n${desc}${t?.error ? `\n${t.error}` : ''}`}>
      <input type="radio" name={group} value={l.name} checked={checked} aria-label={`${l.name}, ${desc}${isDefault ? ', default' : ''}`} onChange={() => onPick(l.name)} />
      <Thumbnail thumb={t} bitmap={bitmap} aspect={aspect} colormap={colormap} label={`Grad-CAM thumbnail at ${l.name}`} />
      <span className="layer-name">{shortName(l.name, l.className)}</span>
      <span className="layer-shape">
        {l.className.replace('BatchNormalization', 'BatchNorm').replace('DepthwiseConv2D', 'DWConv2D')} · {l.shape[0]}×{l.shape[1]}×{l.shape[2]}
      </span>
    </label>
  );
});

export function LayerPicker() {
  const headingId = useId();
  const info = useAppStore((s) => s.model.info);
  const chosen = useAppStore((s) => s.settings.layer);
  const inUse = useAppStore((s) => s.results.layer);
  const setSettings = useAppStore((s) => s.setSettings);
  const allThumbs = useAppStore((s) => s.modelSource.thumbs);
  const gen = useAppStore((s) => s.input.gen);
  const modelId = useAppStore((s) => s.model.info?.modelId);
  // thumbnails of a previous image or model are never drawn over the current photo
  const thumbs = allThumbs.key?.startsWith(`${gen}|${modelId}|`) ? allThumbs : { ...allThumbs, key: null, byLayer: {} };
  const photo = useAppStore((s) => s.input.photo);
  // a colormap change recolours the panels first; the thumbnails (one per candidate layer, ~80 for MobileNet) follow in a later render
  const colormap = useDeferredValue(useAppStore((s) => s.settings.colormap));
  const bitmap = usePhotoBitmap(photo);
  const layers = info?.layers ?? [];
  const current = chosen ?? inUse ?? info?.defaultLayer ?? '';
  // while the next photo decodes, keep the last one's aspect: a canvas size change clears and
  // reallocates every thumbnail, twice per drop
  const photoAspect = photo ? photo.width / photo.height : null;
  const [lastAspect, setLastAspect] = useState<number | null>(null);
  if (photoAspect !== null && photoAspect !== lastAspect) setLastAspect(photoAspect);
  const aspect = photoAspect ?? lastAspect ?? (info ? info.inputSize[1] / info.inputSize[0] : 1);
  const done = layers.filter((l) => thumbs.byLayer[l.name]).length;
  const listRef = useRef<HTMLDivElement>(null);
  // keep the chosen layer in view inside the list (the default is usually the last one), without scrolling the page
  useEffect(() => {
    const list = listRef.current;
    const tile = list?.querySelector<HTMLElement>('.layer-option.checked');
    if (!list || !tile) return;
    const top = tile.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top + tile.offsetHeight > list.scrollTop + list.clientHeight) list.scrollTop = Math.max(0, top - (list.clientHeight - tile.offsetHeight) / 2);
  }, [current, layers.length]);
  const defaultLayer = info?.defaultLayer;
  const commit = useCallback((name: string) => setSettings({ layer: name === defaultLayer ? null : name }), [setSettings, defaultLayer]);
  // keyboard moves only preview the choice: one ArrowDown must not start a 20 s explanation
  const [pending, setPending] = useState<string | null>(null);
  const pointer = useRef(false);
  useEffect(() => {
    if (pending === null) return;
    const t = setTimeout(() => {
      commit(pending);
      setPending(null);
    }, LAYER_PAUSE_MS);
    return () => clearTimeout(t);
  }, [pending, commit]);
  const pick = useCallback(
    (name: string) => {
      if (pointer.current) {
        pointer.current = false;
        setPending(null);
        commit(name);
      } else setPending(name);
    },
    [commit],
  );
  const shown = pending ?? current;
  const firstError = layers.map((l) => thumbs.byLayer[l.name]?.error).find((e) => e);
  return (
    <section className="card">
      <h2 id={headingId}>Layer</h2>
      {layers.length === 0 ? (
        <p className="hint">The layers appear when a model is loaded.</p>
      ) : (
        <>
          <p className="hint">
            Grad-CAM of this image at every layer, shallow to deep.{' '}
            {thumbs.key && done < layers.length ? (
              <span role="status">
                Thumbnails {done} / {layers.length}…
              </span>
            ) : !photo ? (
              'Load an image to see them.'
            ) : null}
          </p>
          <div
            className={photo ? 'layer-list' : 'layer-list no-photo'}
            role="radiogroup"
            aria-labelledby={headingId}
            aria-describedby={`${headingId}-keys`}
            ref={listRef}
            onPointerDown={() => (pointer.current = true)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && pending !== null) {
                e.preventDefault();
                commit(pending);
                setPending(null);
              }
            }}
          >
            {layers.map((l) => (
              <LayerOption
                key={l.name}
                layer={l}
                group={headingId}
                checked={l.name === shown}
                isDefault={l.name === info?.defaultLayer}
                thumb={thumbs.byLayer[l.name]}
                bitmap={bitmap}
                aspect={aspect}
                colormap={colormap}
                onPick={pick}
              />
            ))}
          </div>
          <p className="hint" id={`${headingId}-keys`}>
            {pending !== null ? <span role="status">Press Enter to explain at {pending} (or wait a moment).</span> : 'Arrow keys move between layers; Enter explains at the one picked.'}
          </p>
          {firstError && <p className="hint layer-error">Layers marked “no gradient”: {firstError}</p>}
        </>
      )}
    </section>
  );
}
