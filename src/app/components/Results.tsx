/**
 * The results area: the line saying what is explained, the three maps (or, before any photo,
 * the onboarding with samples), the numeric colour bar, and the Fusion-CAM pipeline picture.
 */
import { useLayoutEffect, useRef } from 'react';
import { useAppStore } from '../store';
import { colormapLut } from '../colormaps';
import { drawColorBar } from '../render';
import { shortLabel, useTargetClass } from '../derived';
import { panelTitle } from '../methodChoice';
import { MAP_BLURBS, Panels } from './Panels';
import { SampleButtons } from './Sidebar';
import { LiveCamera, useLiveActive } from './LiveCamera';
import { ComparePanel } from './ComparePanel';

export function ResultsHeader() {
  const target = useTargetClass();
  const info = useAppStore((s) => s.model.info);
  const layer = useAppStore((s) => s.results.layer);
  const hasImage = useAppStore((s) => s.input.blob !== null);
  const name = useAppStore((s) => s.input.name);
  if (!hasImage) return null;
  return (
    <h2 className="results-title" data-testid="results-title">
      {target ? (
        <>
          Explaining <strong className="class-name">{shortLabel(target.label)}</strong>{' '}
          <span className="prob">{target.probability !== null ? `(${(target.probability * 100).toFixed(target.probability >= 0.995 ? 0 : 1)} %)` : '(not in the top 5)'}</span>
          <span className="sep"> · </span>
          <span className="meta">{info?.name ?? ''}</span>
          {layer && (
            <>
              <span className="sep"> · </span>
              <span className="meta mono">{layer}</span>
            </>
          )}
        </>
      ) : (
        <>Reading {name ?? 'the photo'}…</>
      )}
    </h2>
  );
}

function EmptyState() {
  const settings = useAppStore((s) => s.settings);
  return (
    <div className="empty-state">
      <p className="lead">Drop a photo anywhere, or try one of these. The model names what it sees, and three maps show where it looked.</p>
      <SampleButtons size="large" />
      <ol className="map-legend" aria-label="What the three maps show">
        {(['gradient', 'region', 'fusioncam'] as const).map((id) => (
          <li key={id}>
            <strong>{panelTitle(id, settings, id === 'gradient' ? 'Grad-CAM' : id === 'region' ? 'Score-CAM' : 'Fusion-CAM')}</strong>
            <span>{MAP_BLURBS[id]}</span>
          </li>
        ))}
      </ol>
      <p className="hint">Warm colours mark what mattered most for the class; cool colours, what did not. Everything runs in your browser: photos never leave your machine.</p>
    </div>
  );
}

/** A numeric colour bar (0…1 with ticks) and what the scale means. */
export function ColourScale() {
  const colormap = useAppStore((s) => s.settings.colormap);
  const scale = useAppStore((s) => s.settings.scale);
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) drawColorBar(ctx, colormapLut(colormap), 0, 0, 256, 10);
  }, [colormap]);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div className="colour-scale" role="img" aria-label={`Colour bar ${colormap}: 0 (no importance) to 1 (most important); ${scale === 'shared' ? 'all maps share one range' : 'each map normalised on its own'}`}>
      <div className="scale-bar" aria-hidden="true">
        <canvas ref={ref} width={256} height={10} />
        <div className="ticks">
          {ticks.map((t) => (
            <span key={t} style={{ left: `${t * 100}%` }}>
              {t === 0 ? '0' : t === 1 ? '1' : t.toFixed(2)}
            </span>
          ))}
        </div>
      </div>
      <p className="scale-note" aria-hidden="true">
        {scale === 'shared' ? 'All three maps share one scale: colours compare across maps.' : 'Each map is scaled on its own: 1 is its own strongest point, so colours compare within a map, not across maps.'}
      </p>
    </div>
  );
}

export function Results() {
  const hasImage = useAppStore((s) => s.input.blob !== null);
  // while the camera is live its own figure shows the map; the photo's panels come back on freeze
  const live = useLiveActive();
  return (
    <section className="results" aria-label="Results">
      <LiveCamera />
      {live ? null : hasImage ? (
        <>
          <div className="results-head">
            <ResultsHeader />
            <ColourScale />
          </div>
          <Panels />
          <ComparePanel />
        </>
      ) : (
        <EmptyState />
      )}
    </section>
  );
}
