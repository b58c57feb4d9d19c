/** Deletion and insertion curves (the class probability against the fraction of pixels moved) of several maps, as SVG. */
import type { PanelMetrics } from '../../worker/evaluationProtocol';

export interface CurveSeries {
  id: string;
  label: string;
  result: PanelMetrics;
}

/** Distinct on the dark background and readable for common colour-vision deficiencies (Okabe–Ito). */
const COLORS = ['#56b4e9', '#e69f00', '#009e73', '#f0e442', '#cc79a7', '#d55e00'];

const W = 320;
const H = 190;
const PAD = { left: 44, right: 16, top: 10, bottom: 30 };

function points(scores: Float32Array, yMax: number): string {
  const n = scores.length;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  return Array.from(scores, (v, i) => `${(PAD.left + (i / Math.max(1, n - 1)) * iw).toFixed(1)},${(PAD.top + ih - (Math.min(v, yMax) / yMax) * ih).toFixed(1)}`).join(' ');
}

function Chart({ mode, curves, yMax }: { mode: 'deletion' | 'insertion'; curves: CurveSeries[]; yMax: number }) {
  const name = mode === 'deletion' ? 'Deletion' : 'Insertion';
  const auc = (c: CurveSeries) => (mode === 'deletion' ? c.result.deletionAuc : c.result.insertionAuc);
  const label = `${name} curves: ${curves.map((c) => `${c.label} AUC ${auc(c).toFixed(3)}`).join(', ')}`;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const ticks = [0, 0.5, 1];
  return (
    <div className="curve-chart">
      <div className="curve-title">
        {name} <span className="muted small">({mode === 'deletion' ? 'lower area is better' : 'higher area is better'})</span>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-mode={mode}>
        <rect x={PAD.left} y={PAD.top} width={iw} height={ih} className="plot-bg" />
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={PAD.left + iw} y1={PAD.top + ih - t * ih} y2={PAD.top + ih - t * ih} className="grid" />
            <text x={PAD.left - 4} y={PAD.top + ih - t * ih + 3} textAnchor="end" className="tick">
              {(t * yMax).toFixed(2)}
            </text>
            <text x={PAD.left + t * iw} y={H - PAD.bottom + 13} textAnchor="middle" className="tick">
              {`${t * 100}%`}
            </text>
          </g>
        ))}
        <text x={PAD.left + iw / 2} y={H - 3} textAnchor="middle" className="axis-label">
          {mode === 'deletion' ? 'pixels removed' : 'pixels restored'}
        </text>
        <text x={8} y={PAD.top + ih / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 8 ${PAD.top + ih / 2})`}>
          class probability
        </text>
        {curves.map((c, i) => (
          <polyline key={c.id} data-method={c.id} points={points(mode === 'deletion' ? c.result.deletion : c.result.insertion, yMax)} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1.8} />
        ))}
      </svg>
    </div>
  );
}

export function CurvesChart({ curves }: { curves: CurveSeries[] }) {
  // one y scale for both charts: the largest probability reached, rounded up to a tenth
  let top = 0;
  for (const c of curves) for (const s of [c.result.deletion, c.result.insertion]) for (const v of s) top = Math.max(top, v);
  const yMax = Math.min(1, Math.max(0.1, Math.ceil(top * 10) / 10));
  return (
    <figure className="curves" aria-label="Deletion and insertion curves">
      <div className="curve-charts">
        <Chart mode="deletion" curves={curves} yMax={yMax} />
        <Chart mode="insertion" curves={curves} yMax={yMax} />
      </div>
      <figcaption>
        <ul className="legend" aria-label="Curves legend">
          {curves.map((c, i) => (
            <li key={c.id}>
              <span className="swatch" style={{ background: COLORS[i % COLORS.length] }} aria-hidden="true" />
              {c.label}
              <span className="muted small">
                {' '}
                del {c.result.deletionAuc.toFixed(3)} · ins {c.result.insertionAuc.toFixed(3)}
              </span>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
