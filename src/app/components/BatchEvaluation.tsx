/**
 * Batch evaluation in the app: the authors' protocol (docs/method.md §5) over a set of chosen images, run
 * in the engine worker, with the CLI's summary layout on screen and its rows as a CSV download.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import { useAppStore } from '../store';
import { EVALUATION_METHODS, methodLabel } from '../methodChoice';
import { cancelBatch, rowsToCsv, startBatch, summarizeRows } from '../evaluationClient';

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');

export function BatchEvaluation() {
  const fileId = useId();
  const [files, setFiles] = useState<File[]>([]);
  const [methods, setMethods] = useState<string[]>(['gradcam', 'scorecam', 'fusioncam']);
  const batch = useAppStore((s) => s.evaluation.batch);
  const modelReady = useAppStore((s) => s.model.status === 'ready');
  const regionLabel = useAppStore((s) => s.settings.regionMethod);
  const running = batch.status === 'running';
  const summary = useMemo(() => summarizeRows(batch.rows, batch.methods), [batch.rows, batch.methods]);
  const csvUrl = useMemo(() => (batch.rows.length > 0 ? URL.createObjectURL(new Blob([rowsToCsv(batch.rows)], { type: 'text/csv' })) : null), [batch.rows]);
  useEffect(() => () => (csvUrl ? URL.revokeObjectURL(csvUrl) : undefined), [csvUrl]);
  const toggle = (m: string, on: boolean) => setMethods((cur) => EVALUATION_METHODS.map((e) => e.id).filter((id) => (id === m ? on : cur.includes(id))));
  const finishedImages = new Set(batch.rows.map((r) => r.image)).size;

  return (
    <section className="card evaluation-card" aria-label="Batch evaluation">
      <h2>Batch evaluation</h2>
      <p className="hint">
        The authors&apos; protocol over a set of images, on the loaded model and layer, for each image&apos;s predicted class. Fusion-CAM uses the gradient and region methods chosen above ({methodLabel(regionLabel)} region branch).
        Images stay in the browser.
      </p>
      <div className="batch-controls">
        <div className="field">
          <label htmlFor={fileId}>Evaluation images</label>
          <input id={fileId} type="file" accept="image/*" multiple disabled={running} onChange={(e) => setFiles(Array.from(e.currentTarget.files ?? []))} />
          <span className="muted small">{files.length > 0 ? `${files.length} image${files.length > 1 ? 's' : ''} chosen` : 'Choose one or more images'}</span>
        </div>
        <fieldset className="method-picks" disabled={running}>
          <legend>Methods to evaluate</legend>
          {EVALUATION_METHODS.map((m) => (
            <label key={m.id} className="pick">
              <input type="checkbox" checked={methods.includes(m.id)} onChange={(e) => toggle(m.id, e.currentTarget.checked)} />
              {m.label}
            </label>
          ))}
        </fieldset>
        <div className="row-buttons">
          <button type="button" disabled={!modelReady || running || files.length === 0 || methods.length === 0} onClick={() => startBatch(files, methods)}>
            Run evaluation
          </button>
          {/* always laid out, shown only while running: the method checkboxes do not move when a run starts */}
          <button type="button" className="danger" onClick={cancelBatch} disabled={!running} style={{ visibility: running ? 'visible' : 'hidden' }}>
            Cancel evaluation
          </button>
        </div>
      </div>
      {running && (
        <div className="progress-row batch-progress">
          <progress aria-label="Evaluation progress" max={Math.max(1, batch.images)} value={finishedImages} />
          <span className="muted small">
            image {Math.min(batch.image + 1, batch.images)} of {batch.images} · {batch.name} · {methodLabel(batch.method)}
            {batch.phase && batch.total > 0 ? ` · ${batch.phase === 'map' ? 'map' : 'metrics'} ${batch.done}/${batch.total}` : ''}
          </span>
        </div>
      )}
      {batch.status === 'error' && (
        <p className="error" role="alert">
          {batch.error}
        </p>
      )}
      {batch.status !== 'idle' && batch.status !== 'running' && (
        <p className="muted small" role="status">
          {batch.status === 'cancelled' ? 'Cancelled' : 'Done'}: {finishedImages} image{finishedImages === 1 ? '' : 's'} × {batch.methods.length} method{batch.methods.length === 1 ? '' : 's'}
          {batch.ms !== null ? ` in ${(batch.ms / 1000).toFixed(1)} s` : ''}
          {batch.skipped.length > 0 ? ` · ${batch.skipped.length} skipped` : ''}
        </p>
      )}
      {batch.skipped.length > 0 && (
        <ul className="notes warn">
          {batch.skipped.map((s) => (
            <li key={s.image}>
              {s.image}: {s.message}
            </li>
          ))}
        </ul>
      )}
      {summary.length > 0 && (
        <>
          <table className="summary-table" aria-label="Evaluation summary">
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col">Model</th>
                <th scope="col">N</th>
                <th scope="col">Avg Drop ↓</th>
                <th scope="col">Increase ↑</th>
                <th scope="col">Deletion ↓</th>
                <th scope="col">Insertion ↑</th>
              </tr>
            </thead>
            <tbody>
              {summary.map((s) => (
                <tr key={s.method} data-method={s.method}>
                  <th scope="row">{methodLabel(s.method)}</th>
                  <td>{s.model}</td>
                  <td>{s.images}</td>
                  <td>{f4(s.averageDrop)}</td>
                  <td>{f4(s.increase)}</td>
                  <td>{f4(s.deletion)}</td>
                  <td>{f4(s.insertion)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {csvUrl && (
            <a className="download-link" href={csvUrl} download="evaluation.csv">
              Download CSV
            </a>
          )}
        </>
      )}
    </section>
  );
}
