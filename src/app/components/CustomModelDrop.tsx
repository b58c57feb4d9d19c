/**
 * The "Model" card: what the loaded model is (input size, preprocessing and why, default layer,
 * class names, where it came from), the preprocessing choice, and the ways to bring one's own
 * model: a drop zone for a folder or files, file and folder pickers, and a URL. Names and labels
 * from user files are rendered as text only.
 */
import { useId, useState, type DragEvent } from 'react';
import { useAppStore } from '../store';
import { choosePreprocessing, loadModelFiles, loadModelUrl } from '../modelClient';
import { PREPROCESSING } from '../../engine/model/descriptor';
import type { ModelFileEntry } from '../../worker/modelProtocol';
import '../models.css';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function readEntry(entry: FileSystemEntry, prefix: string, out: ModelFileEntry[]): Promise<void> {
  if (entry.isFile) {
    return new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)).then((file) => {
      out.push({ path: prefix + entry.name, file });
    });
  }
  if (!entry.isDirectory) return Promise.resolve();
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const next = (): Promise<void> =>
    new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject)).then(async (batch) => {
      if (batch.length === 0) return;
      for (const e of batch) await readEntry(e, `${prefix}${entry.name}/`, out);
      return next();
    });
  return next();
}

/** Files of a drop, folders walked recursively (paths keep the folder names). */
async function droppedFiles(dt: DataTransfer): Promise<ModelFileEntry[]> {
  // both lists must be taken before the first await: the DataTransfer empties after the event
  const plain = Array.from(dt.files).map((f) => ({ path: f.name, file: f as Blob }));
  const roots = Array.from(dt.items)
    .filter((i) => i.kind === 'file')
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null));
  if (!roots.some((r) => r?.isDirectory)) return plain;
  try {
    const out: ModelFileEntry[] = [];
    for (const r of roots) if (r) await readEntry(r, '', out);
    return out;
  } catch {
    return plain;
  }
}

function fromInput(list: FileList | null): ModelFileEntry[] {
  return Array.from(list ?? []).map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

const SOURCE_TEXT = { registry: 'ready-made model', files: 'your files', url: 'from a URL' } as const;

function ModelDetailsView() {
  const info = useAppStore((s) => s.model.info);
  const details = useAppStore((s) => s.modelSource.details);
  const preId = useId();
  if (!info || !details || details.modelId !== info.modelId) return null;
  const short = (name: string) => name.split('/').slice(-2).join('/');
  return (
    <div className="model-details">
      <dl>
        <dt>Name</dt>
        <dd data-testid="model-name">{info.name}</dd>
        <dt>Format</dt>
        <dd>
          {details.kind === 'graph' ? 'TF.js GraphModel' : 'TF.js LayersModel'} · {SOURCE_TEXT[details.source]}
          {details.fromCache ? ' · from the offline cache' : ''}
        </dd>
        <dt>Input</dt>
        <dd data-testid="model-input-size">
          {info.inputSize[0]}×{info.inputSize[1]} RGB
        </dd>
        <dt>Classes</dt>
        <dd>{details.labelsNote}</dd>
        <dt>Default layer</dt>
        <dd title={info.defaultLayer} data-testid="model-default-layer">
          {short(info.defaultLayer)}
        </dd>
      </dl>
      <div className="field">
        <label htmlFor={preId}>Preprocessing</label>
        <select id={preId} value={details.preprocessing} onChange={(e) => choosePreprocessing(e.currentTarget.value)}>
          {Object.values(PREPROCESSING).map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
        {details.guess && (
          <p className="hint" data-testid="preprocessing-guess">
            Guessed: {details.guess.reason}
          </p>
        )}
      </div>
      {details.kind === 'graph' && (
        <div className="model-limits" role="note" data-testid="graph-limits">
          <p>
            <strong>GraphModel limits.</strong> Only activation, merge and pooling nodes can be explained (they are the layers listed). Graphs with control flow do not run, and the
            preprocessing is not recorded in the file (check the choice above).
          </p>
          {details.gradient.ok ? (
            <p>
              Gradients reach the default layer, so Grad-CAM, Score-CAM and Fusion-CAM all work there. Where an op has no TF.js gradient, the layer picker marks the layer “no gradient”:
              Grad-CAM and Fusion-CAM do not work at such a layer, Score-CAM does (it needs only forward passes).
            </p>
          ) : (
            <>
              <p>
                <strong>Grad-CAM and Fusion-CAM do not work</strong> at the default layer: TF.js cannot compute gradients through this graph. Score-CAM works (it needs only forward passes).
              </p>
              <p className="hint">{details.gradient.reason}</p>
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function CustomModelDrop() {
  const filesId = useId();
  const folderId = useId();
  const urlId = useId();
  const [url, setUrl] = useState('');
  const [over, setOver] = useState(false);
  const userLoad = useAppStore((s) => s.modelSource.userLoad);
  const userError = useAppStore((s) => s.modelSource.userError);
  const stop = (e: DragEvent) => {
    // the page-wide handler would take the files for an image
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <section className="card">
      <h2>Model</h2>
      <ModelDetailsView />
      <div
        className={over ? 'model-drop over' : 'model-drop'}
        data-testid="model-drop-zone"
        onDragEnter={(e) => {
          stop(e);
          setOver(true);
          // the page-wide "drop the image" overlay would say the wrong thing here
          useAppStore.getState().setUi({ dragOver: false });
        }}
        onDragOver={(e) => {
          stop(e);
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          stop(e);
          setOver(false);
          useAppStore.getState().setUi({ dragOver: false });
          droppedFiles(e.dataTransfer).then(loadModelFiles, () => undefined);
        }}
      >
        <p className="hint">Drop your model here: its folder, or model.json with its weight files (and a labels .json or .txt if you have one).</p>
        <div className="field">
          <label htmlFor={filesId}>Model files</label>
          <input
            id={filesId}
            type="file"
            multiple
            onChange={(e) => {
              loadModelFiles(fromInput(e.currentTarget.files));
              e.currentTarget.value = '';
            }}
          />
        </div>
        <div className="field">
          <label htmlFor={folderId}>Model folder</label>
          <input
            id={folderId}
            type="file"
            {...{ webkitdirectory: '' }}
            onChange={(e) => {
              loadModelFiles(fromInput(e.currentTarget.files));
              e.currentTarget.value = '';
            }}
          />
        </div>
      </div>
      <form
        className="field"
        // a same-origin path ("/models/x/model.json") is a valid model URL; the worker checks it
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) loadModelUrl(url.trim());
        }}
      >
        <label htmlFor={urlId}>Model URL</label>
        <div className="row">
          <input id={urlId} type="url" placeholder="https://…/model.json" value={url} onChange={(e) => setUrl(e.currentTarget.value)} />
          <button type="submit" className="secondary" disabled={userLoad !== null}>
            Load model
          </button>
        </div>
      </form>
      {userLoad && (
        <div className="model-status" role="status">
          <span>Loading {userLoad.what}…</span>
          {userLoad.total > 0 && (
            <>
              <progress aria-label="Model download progress" max={userLoad.total} value={userLoad.loaded} />
              <span className="muted small">
                {mb(userLoad.loaded)} / {mb(userLoad.total)}
              </span>
            </>
          )}
        </div>
      )}
      {userError && (
        <p className="error" role="alert" data-testid="model-error">
          {userError} <span className="muted">(the previous model is still in use)</span>
        </p>
      )}
    </section>
  );
}
