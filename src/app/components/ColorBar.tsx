/** The colour bar legend of the current colormap and scale. */
import { useLayoutEffect, useRef } from 'react';
import { colormapLut, type ColormapId } from '../colormaps';
import { drawColorBar } from '../render';

export function ColorBar({ colormap, low, high }: { colormap: ColormapId; low: string; high: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) drawColorBar(ctx, colormapLut(colormap), 0, 0, 256, 12);
  }, [colormap]);
  return (
    <div className="colorbar" aria-label={`Colour bar: ${colormap}, ${low} to ${high}`} role="img">
      <canvas ref={ref} width={256} height={12} />
      <div className="colorbar-labels" aria-hidden="true">
        <span>{low}</span>
        <span>{high}</span>
      </div>
    </div>
  );
}
