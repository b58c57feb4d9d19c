/** The panel grid: the input photo, Grad-CAM, Score-CAM, Fusion-CAM and (on request) the intermediate maps. */
import { useMemo, useState } from 'react';
import { useAppStore } from '../store';
import { HeatmapCanvas } from './HeatmapCanvas';
import { ErrorBoundary } from './ErrorBoundary';
import { PANEL_TITLES, shortLabel, useFusion, usePanelMaps, useTargetClass, type PanelId } from '../derived';
import { nonFiniteMessage, valueRange } from '../render';
import { exportPanel } from '../export';
import { cancelRegion, startRegion } from '../engineClient';
import { panelTitle } from '../methodChoice';
import { MetricsPanel } from './MetricsPanel';

const DEFAULT_INPUT_SIZE: [number, number] = [224, 224];
const fmt = (v: number) => (Math.abs(v) >= 0.001 || v === 0 ? v.toFixed(3) : v.toExponential(2));

function ExportButton({ id, ready }: { id: PanelId | 'input'; ready: boolean }) {
  const [busy, setBusy] = useState(false);
  const setUi = useAppStore((s) => s.setUi);
  return (
    <button
      type="button"
      className="secondary"
      disabled={!ready || busy}
      onClick={() => {
        setBusy(true);
        exportPanel(id)
          .then(() => setUi({ notice: `${id === 'input' ? 'Input' : PANEL_TITLES[id]} exported at the photo's full resolution.` }))
          .catch((e: unknown) => setUi({ notice: `Export failed: ${(e as Error).message}` }))
          .finally(() => setBusy(false));
      }}
    >
      Export PNG
    </button>
  );
}

function Progress({ title, done, total }: { title: string; done: number; total: number }) {
  return (
    <div className="progress-row">
      <progress aria-label={`${title} progress`} max={Math.max(1, total)} value={done} />
      <span className="muted small">{total > 0 ? `${done} / ${total} channels` : 'starting…'}</span>
    </div>
  );
}

function Notes({ lines, tone = 'warn' }: { lines: string[]; tone?: 'warn' | 'info' }) {
  if (lines.length === 0) return null;
  return (
    <ul className={`notes ${tone}`}>
      {lines.map((l) => (
        <li key={l}>{l}</li>
      ))}
    </ul>
  );
}

function InputPanel() {
  const photo = useAppStore((s) => s.input.photo);
  const input = useAppStore((s) => s.input);
  return (
    <figure className="panel">
      <figcaption>Input</figcaption>
      <div className="canvas-wrap">
        {photo ? (
          <HeatmapCanvas label={`Input photo ${input.name ?? ''}`.trim()} photo={photo} map={null} mapSize={[photo.height, photo.width]} colormap="turbo" opacity={0} range={[0, 1]} />
        ) : (
          <div className="placeholder">{input.decoding ? 'Decoding…' : 'No image yet'}</div>
        )}
      </div>
      <div className="panel-foot">
        <span className="muted small panel-status" title={input.name ?? ''}>
          {input.width > 0 ? `${input.name ?? 'image'} · ${input.width}×${input.height}` : ''}
        </span>
        <ExportButton id="input" ready={photo !== null} />
      </div>
    </figure>
  );
}

export function Panels() {
  const photo = useAppStore((s) => s.input.photo);
  const hasImage = useAppStore((s) => s.input.blob !== null);
  const settings = useAppStore((s) => s.settings);
  const results = useAppStore((s) => s.results);
  const inputSize = useAppStore((s) => s.model.info?.inputSize ?? DEFAULT_INPUT_SIZE);
  const maps = usePanelMaps();
  const fusion = useFusion();
  const target = useTargetClass();
  const ids: PanelId[] = settings.showIntermediate ? ['gradient', 'region', 'fusioncam', 'denoised', 'combined'] : ['gradient', 'region', 'fusioncam'];
  const shared = useMemo(() => valueRange(ids.map((i) => maps[i]).filter((m): m is Float32Array => m !== null)), [maps.gradient, maps.region, maps.fusioncam, maps.denoised, maps.combined, settings.showIntermediate]); // eslint-disable-line react-hooks/exhaustive-deps
  const region = results.region;
  const running = region?.status === 'running';
  const className = target ? shortLabel(target.label) : '';
  const stage = results.stage;

  const status: Record<PanelId, { text: string; notes: string[]; info?: string[] }> = {
    gradient: {
      text:
        results.gradientError ??
        (results.gradient && target
          ? `${className} · class ${target.index}${target.probability !== null ? ` · ${(target.probability * 100).toFixed(1)}%` : ''} · ${results.layer ?? ''}`
          : hasImage
            ? 'computing…'
            : ''),
      notes: results.gradient?.warnings ?? [],
    },
    region: {
      text:
        results.regionError ??
        (region?.status === 'done'
          ? `${region.total} masked passes${region.helperPasses ? ` (${region.helperPasses} on a second worker)` : ''} · ${((region.ms ?? 0) / 1000).toFixed(1)} s`
          : region?.status === 'cancelled'
            ? 'Cancelled'
            : running
              ? 'partial map, strongest channels first'
              : ''),
      notes: [],
    },
    fusioncam: {
      text: results.stageError ?? (stage ? `θ ${stage.theta} · τ ${settings.tau}` : running ? 'waiting for Score-CAM' : region?.status === 'cancelled' ? 'needs Score-CAM' : ''),
      // Grad-CAM's own warnings are shown under Grad-CAM
      notes: (fusion?.warnings ?? []).filter((w) => !(results.gradient?.warnings ?? []).includes(w)),
      info: stage
        ? [
            `β_g ${fmt(stage.betas.gradient)} · β_r ${fmt(stage.betas.region)} · β_dr ${fmt(stage.betas.combined)} (p_b ${fmt(stage.betas.baseline)})`,
            `step 3 weights ${fmt(stage.betas.gradientStep3)} / ${fmt(stage.betas.regionStep3)} · step 5 weights ${fmt(stage.betas.combinedStep5)} / ${fmt(stage.betas.regionStep5)}`,
          ]
        : [],
    },
    denoised: { text: stage ? `threshold P_θ = ${fmt(stage.threshold)}` : '', notes: [] },
    combined: { text: stage ? 'β_g·L_gd + β_r·L_r, normalised' : '', notes: [] },
  };

  return (
    <section className="panels" aria-label="Explanations">
      <ErrorBoundary name="Input">
        <InputPanel />
      </ErrorBoundary>
      {ids.map((id) => {
        const title = panelTitle(id, settings, PANEL_TITLES[id]);
        const problem = maps[id] ? nonFiniteMessage(maps[id]) : null;
        const map = problem ? null : maps[id];
        const range: [number, number] = settings.scale === 'shared' ? shared : map ? valueRange([map]) : [0, 1];
        const showProgress = running && (id === 'region' || id === 'fusioncam');
        const ready = id === 'region' ? region?.status === 'done' && map !== null : map !== null;
        const st = status[id];
        return (
          <ErrorBoundary key={id} name={title}>
            <figure className="panel" data-panel={id} aria-busy={showProgress || undefined}>
              <figcaption>{title}</figcaption>
              <div className="canvas-wrap">
                {photo ? (
                  <HeatmapCanvas
                    label={`${title} heatmap${className ? ` for ${className}` : ''}`}
                    photo={photo}
                    map={id === 'fusioncam' && running ? null : map}
                    mapSize={inputSize}
                    colormap={settings.colormap}
                    opacity={settings.opacity}
                    range={range}
                    dim={showProgress && id === 'fusioncam'}
                  />
                ) : (
                  <div className="placeholder">{hasImage ? '…' : 'Drop an image'}</div>
                )}
                {problem && (
                  <p className="panel-alert" role="alert">
                    {problem}
                  </p>
                )}
                {showProgress && (
                  <div className="panel-overlay">
                    <Progress title={title} done={region!.done} total={region!.total} />
                    {id === 'region' && (
                      <button type="button" className="danger" onClick={cancelRegion}>
                        Cancel
                      </button>
                    )}
                  </div>
                )}
              </div>
              <div className="panel-foot">
                <span className="muted small panel-status" title={st.text}>
                  {st.text}
                </span>
                {id === 'region' && region?.status === 'cancelled' && (
                  <button type="button" className="secondary" onClick={startRegion}>
                    Compute {title}
                  </button>
                )}
                <ExportButton id={id} ready={ready} />
              </div>
              <MetricsPanel panel={id} title={title} map={ready && !(id === 'fusioncam' && running) ? map : null} />
              <Notes lines={st.info ?? []} tone="info" />
              <Notes lines={st.notes} />
            </figure>
          </ErrorBoundary>
        );
      })}
    </section>
  );
}
