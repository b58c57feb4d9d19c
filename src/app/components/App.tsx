/**
 * The page: a compact header; then the results first (what is explained, the three maps, the
 * colour scale) beside a narrow input column; then the Fusion-CAM pipeline; then the settings,
 * metrics and batch evaluation. Drop and paste work anywhere.
 */
import { useEffect } from 'react';
import { useAppStore } from '../store';
import { loadCheckedImage as loadImage } from '../imageCheck';
import { Header } from './Header';
import { Predictions, SettingsGroups } from './Sidebar';
import { Results } from './Results';
import { InputCard } from './InputCard';
import { Pipeline } from './Pipeline';
import { useProbeReset } from './Panels';
import { FaithfulnessSection } from './MetricsPanel';
import { BatchEvaluation } from './BatchEvaluation';

function allFiles(items: DataTransferItemList | null, files: FileList | null): File[] {
  const fs = Array.from(files ?? []).filter(Boolean);
  if (fs.length) return fs;
  const out: File[] = [];
  for (const it of Array.from(items ?? [])) {
    if (it.kind === 'file') {
      const f = it.getAsFile();
      if (f) out.push(f);
    }
  }
  return out;
}

function firstImage(items: DataTransferItemList | null, files: FileList | null): File | null {
  return allFiles(items, files)[0] ?? null;
}

/** Several files at once: the first image is explained, and the page says which were ignored. */
function pickDropped(files: File[]): { use: File | null; ignored: File[] } {
  const use = files.find((f) => f.type.startsWith('image/')) ?? files[0] ?? null;
  return { use, ignored: files.filter((f) => f !== use) };
}

function useDropAndPaste(): void {
  const setUi = useAppStore((s) => s.setUi);
  const setInput = useAppStore((s) => s.setInput);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
    const onEnter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setUi({ dragOver: true });
    };
    const onLeave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setUi({ dragOver: false });
    };
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onDrop = (e: DragEvent) => {
      depth = 0;
      setUi({ dragOver: false });
      const { use: f, ignored } = pickDropped(allFiles(e.dataTransfer?.items ?? null, e.dataTransfer?.files ?? null));
      if (!f) return;
      e.preventDefault();
      void loadImage(f, f.name);
      if (ignored.length > 0) setUi({ notice: `Explaining ${f.name}; ignored ${ignored.map((x) => x.name).join(', ')}: one image at a time.` });
    };
    const onPaste = (e: ClipboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') && (target as HTMLInputElement).type !== 'file') {
        // text pasted into a text field stays there
        if (!Array.from(e.clipboardData?.files ?? []).length) return;
      }
      const f = firstImage(e.clipboardData?.items ?? null, e.clipboardData?.files ?? null);
      if (!f) return;
      e.preventDefault();
      if (!f.type.startsWith('image/')) {
        setInput({ error: `The pasted item is not an image (${f.type || 'unknown type'})` });
        return;
      }
      void loadImage(f, f.name && f.name !== 'image.png' ? f.name : 'pasted-image.png');
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('dragover', onOver);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, [setUi, setInput]);
}

function Notice() {
  const notice = useAppStore((s) => s.ui.notice);
  const setUi = useAppStore((s) => s.setUi);
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setUi({ notice: null }), 8000);
    return () => clearTimeout(t);
  }, [notice, setUi]);
  return (
    <div className="notice" role="status" aria-live="polite">
      {notice && (
        <>
          <span>{notice}</span>
          <button type="button" className="ghost" aria-label="Dismiss the notice" onClick={() => setUi({ notice: null })}>
            ×
          </button>
        </>
      )}
    </div>
  );
}

function BackendAlert() {
  const alert = useAppStore((s) => s.ui.backendAlert);
  const setUi = useAppStore((s) => s.setUi);
  if (!alert) return null;
  return (
    <div className="backend-alert" role="alert">
      <span>{alert}</span>
      <button type="button" onClick={() => setUi({ backendAlert: null })}>
        Dismiss
      </button>
    </div>
  );
}

export function App() {
  useDropAndPaste();
  useProbeReset();
  const dragOver = useAppStore((s) => s.ui.dragOver);
  const hasImage = useAppStore((s) => s.input.blob !== null);
  return (
    <div className="app">
      <Header />
      <BackendAlert />
      <main className="layout">
        <div className={hasImage ? 'stage' : 'stage empty'}>
          <Results />
          <div className="input-column">
            <InputCard />
            <Predictions />
          </div>
        </div>
        <Pipeline />
        <SettingsGroups />
        <div className="main-column">
          <FaithfulnessSection />
          <BatchEvaluation />
        </div>
      </main>
      {dragOver && (
        <div className="drop-overlay" aria-hidden="true">
          Drop the image to explain it
        </div>
      )}
      <Notice />
    </div>
  );
}
