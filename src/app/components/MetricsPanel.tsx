/**
 * Faithfulness metrics beside each map (docs/method.md §5): a compact panel under a heatmap, and the
 * section with "Compute metrics for all panels" and the curves of every scored map.
 */
import { useAppStore } from '../store';
import { PANEL_TITLES, usePanelMaps, type PanelId } from '../derived';
import { panelTitle } from '../methodChoice';
import { cancelMetrics, computeMetrics, type ScorableMap } from '../evaluationClient';
import type { PanelMetricsState } from '../store/evaluation';
import { CurvesChart } from './CurvesChart';
import '../evaluation.css';

const f4 = (v: number) => v.toFixed(4);

/** Metrics belong to a map's values: hooks may hold equal maps in different arrays (each useFusion memo has its own). */
export function sameMap(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** The maps on screen that can be scored now (Score-CAM only when finished). */
export function useScorableMaps(): ScorableMap[] {
  const maps = usePanelMaps();
  const settings = useAppStore((s) => s.settings);
  const regionDone = useAppStore((s) => s.results.region?.status === 'done');
  const ids: PanelId[] = settings.showIntermediate ? ['gradient', 'region', 'fusioncam', 'denoised', 'combined'] : ['gradient', 'region', 'fusioncam'];
  return ids
    .filter((id) => maps[id] !== null && (id === 'gradient' || regionDone))
    .map((id) => ({ panel: id, title: panelTitle(id, settings, PANEL_TITLES[id]), map: maps[id]! }));
}

function MetricsValues({ m }: { m: NonNullable<PanelMetricsState['result']> }) {
  return (
    <>
      <dl className="metrics-grid">
        <div title="mean max(0, Y − O)/Y with Y = p_c(x), O = p_c(x ⊙ map); lower is better">
          <dt>Average Drop ↓</dt>
          <dd data-metric="averageDrop" data-value={m.drop}>{f4(m.drop)}</dd>
        </div>
        <div title="1 when O > Y (the masked image is more confident); over many images, higher is better">
          <dt>Increase ↑</dt>
          <dd data-metric="increase" data-value={m.increase}>
            {m.increase ? 'yes (O > Y)' : 'no (O ≤ Y)'}
          </dd>
        </div>
        <div title="Area under p_c as the most salient pixels are set to 0; lower is better">
          <dt>Deletion AUC ↓</dt>
          <dd data-metric="deletionAuc" data-value={m.deletionAuc}>{f4(m.deletionAuc)}</dd>
        </div>
        <div title="Area under p_c as the most salient pixels are restored into a blurred image; higher is better">
          <dt>Insertion AUC ↑</dt>
          <dd data-metric="insertionAuc" data-value={m.insertionAuc}>{f4(m.insertionAuc)}</dd>
        </div>
      </dl>
      <p className="hint">
        Y = p<sub>c</sub>(x) {f4(m.original)} · O = p<sub>c</sub>(x ⊙ map) {f4(m.masked)} · {(m.ms / 1000).toFixed(1)} s
      </p>
    </>
  );
}

/** The compact metrics panel under one heatmap. `map` is what the panel shows (null: not ready). */
export function MetricsPanel({ panel, title, map }: { panel: PanelId; title: string; map: Float32Array | null }) {
  const state = useAppStore((s) => s.evaluation.panels[panel]);
  const fresh = state !== undefined && map !== null && sameMap(state.map, map);
  const busy = fresh && (state.status === 'running' || state.status === 'queued');
  return (
    <section className="metrics" aria-label={`${title} faithfulness`}>
      {fresh && state.status === 'done' && state.result ? (
        <MetricsValues m={state.result} />
      ) : busy ? (
        <div className="metrics-row">
          <div className="progress-row">
            <progress aria-label={`${title} metrics progress`} max={Math.max(1, state.total)} value={state.done} />
            <span className="muted small">{state.status === 'queued' ? 'queued…' : `${state.done} / ${state.total} curve steps`}</span>
          </div>
          <button type="button" className="danger" onClick={cancelMetrics}>
            Cancel metrics
          </button>
        </div>
      ) : (
        <div className="metrics-row">
          <span className="muted small">
            {fresh && state.status === 'error' ? <span className="error-text">{state.error}</span> : fresh && state.status === 'cancelled' ? 'Metrics cancelled' : state && map !== null ? 'The map changed since its metrics' : map === null ? 'Waits for the map' : 'Not scored yet'}
          </span>
          <button type="button" className="secondary" disabled={map === null} onClick={() => map && computeMetrics([{ panel, title, map }])}>
            Compute metrics
          </button>
        </div>
      )}
    </section>
  );
}

/** The section under the panels: all panels at once, and the insertion and deletion curves. */
export function FaithfulnessSection() {
  const scorable = useScorableMaps();
  const panels = useAppStore((s) => s.evaluation.panels);
  const hasImage = useAppStore((s) => s.input.blob !== null);
  const running = Object.values(panels).some((p) => p.status === 'running' || p.status === 'queued');
  const curves = scorable
    .map((s) => ({ s, p: panels[s.panel] }))
    .filter(({ s, p }) => p && p.status === 'done' && p.result && sameMap(p.map, s.map))
    .map(({ s, p }) => ({ id: s.panel, label: s.title, result: p.result! }));
  const maps = usePanelMaps();
  const settings = useAppStore((s) => s.settings);
  const regionDone = useAppStore((s) => s.results.region?.status === 'done');
  if (!hasImage) return null;
  return (
    <section className="card evaluation-card" aria-label="Faithfulness metrics">
      <div className="card-head">
        <h2>How faithful is each map?</h2>
        <div className="row-buttons">
          {running && (
            <button type="button" className="danger" onClick={cancelMetrics}>
              Cancel metrics
            </button>
          )}
          <button type="button" disabled={scorable.length === 0 || running} onClick={() => computeMetrics(scorable)}>
            Compute metrics for all panels
          </button>
        </div>
      </div>
      <div className="metrics-per-map">
        {(['gradient', 'region', 'fusioncam'] as PanelId[]).map((id) => {
          const title = panelTitle(id, settings, PANEL_TITLES[id]);
          const map = maps[id] && (id === 'gradient' || regionDone) ? maps[id] : null;
          return (
            <div key={id} className="metrics-cell">
              <h3>{title}</h3>
              <MetricsPanel panel={id} title={title} map={map} />
            </div>
          );
        })}
      </div>
      <p className="hint">
        A faithful map points at what the model really uses: hiding its hot pixels should lower the score (Deletion), showing only them should keep it (Insertion). On the current image and class. Average Drop and Deletion: lower is better; Insertion: higher is better; Increase counts whether the masked image is more confident (its mean over many images is the paper&apos;s
        “Increase in Confidence”). Deletion sets the most salient pixels to 0, 448 per step; Insertion restores them into a blurred copy (51×51, σ = 50).
      </p>
      {curves.length > 0 ? <CurvesChart curves={curves} /> : <p className="hint">The deletion and insertion curves of every scored map appear here.</p>}
    </section>
  );
}
