/** A canvas showing a map over the photo (or the photo alone), drawn in one pass per change. */
import { useLayoutEffect, useRef } from 'react';
import { colormapLut, type ColormapId } from '../colormaps';
import { blendOverlay, resampleMap } from '../render';

interface Props {
  label: string;
  photo: ImageData | null;
  map: Float32Array | null;
  mapSize: [number, number];
  colormap: ColormapId;
  opacity: number;
  range: [number, number];
  dim?: boolean;
}

export function HeatmapCanvas({ label, photo, map, mapSize, colormap, opacity, range, dim }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  // one output buffer per canvas, reused across redraws (no 1–2 MB garbage per slider step)
  const buffer = useRef<ImageData | null>(null);
  const W = photo?.width ?? mapSize[1];
  const H = photo?.height ?? mapSize[0];
  const [lo, hi] = range;
  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    if (!map) {
      if (photo) ctx.putImageData(photo, 0, 0);
      else ctx.clearRect(0, 0, W, H);
      return;
    }
    if (!buffer.current || buffer.current.width !== W || buffer.current.height !== H) buffer.current = ctx.createImageData(W, H);
    const out = buffer.current;
    blendOverlay(out, resampleMap(map, mapSize[0], mapSize[1], W, H), photo?.data ?? null, colormapLut(colormap), opacity, lo, hi);
    ctx.putImageData(out, 0, 0);
  }, [photo, map, mapSize, colormap, opacity, lo, hi, W, H]);
  return <canvas ref={ref} width={W} height={H} role="img" aria-label={label} className={dim ? 'heatmap dim' : 'heatmap'} style={{ aspectRatio: `${W} / ${H}` }} />;
}
