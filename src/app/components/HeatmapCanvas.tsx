/**
 * A canvas showing a map over the photo (or the photo alone). The map is coloured at model
 * resolution (224×224 = 50 k pixels, one pass) into a small canvas, and the canvas compositor
 * scales it bilinearly and blends it with the photo at the overlay opacity. A slider step then
 * costs one 50 k-pixel pass and two drawImage calls instead of a pass over every display pixel,
 * which keeps τ, opacity, colormap and scale changes within a frame. Exports use the exact
 * value-space resampling (export worker), not this on-screen path.
 */
import { useLayoutEffect, useRef } from 'react';
import { colormapLut, type ColormapId } from '../colormaps';
import { blendOverlay } from '../render';

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

/** The photo as a canvas, once per ImageData, so drawing it is a blit. */
const photoCanvases = new WeakMap<ImageData, HTMLCanvasElement>();
function photoCanvas(photo: ImageData): HTMLCanvasElement {
  let c = photoCanvases.get(photo);
  if (!c) {
    c = document.createElement('canvas');
    c.width = photo.width;
    c.height = photo.height;
    c.getContext('2d')!.putImageData(photo, 0, 0);
    photoCanvases.set(photo, c);
  }
  return c;
}

export function HeatmapCanvas({ label, photo, map, mapSize, colormap, opacity, range, dim }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  // the coloured map at model resolution, reused across redraws
  const heat = useRef<{ canvas: HTMLCanvasElement; image: ImageData } | null>(null);
  const W = photo?.width ?? mapSize[1];
  const H = photo?.height ?? mapSize[0];
  const [lo, hi] = range;
  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    ctx.globalAlpha = 1;
    if (photo) ctx.drawImage(photoCanvas(photo), 0, 0);
    else ctx.clearRect(0, 0, W, H);
    if (!map) return;
    const [h, w] = mapSize;
    if (!heat.current || heat.current.image.width !== w || heat.current.image.height !== h) {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      heat.current = { canvas: c, image: new ImageData(w, h) };
    }
    const { canvas: heatCanvas, image } = heat.current;
    blendOverlay(image, map, null, colormapLut(colormap), 1, lo, hi);
    heatCanvas.getContext('2d')!.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'low'; // bilinear
    ctx.globalAlpha = photo ? Math.min(1, Math.max(0, opacity)) : 1;
    ctx.drawImage(heatCanvas, 0, 0, W, H);
    ctx.globalAlpha = 1;
  }, [photo, map, mapSize, colormap, opacity, lo, hi, W, H]);
  return <canvas ref={ref} width={W} height={H} role="img" aria-label={label} className={dim ? 'heatmap dim' : 'heatmap'} style={{ aspectRatio: `${W} / ${H}` }} />;
}
