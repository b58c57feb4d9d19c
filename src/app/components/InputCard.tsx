/** The input: a small thumbnail of the photo (not a fourth equal panel), its notices, and the ways to choose another. */
import { useAppStore } from '../store';
import { HeatmapCanvas } from './HeatmapCanvas';
import { ExportButton } from './Panels';
import { ImageInput, InputError, SampleButtons } from './Sidebar';

export function InputCard() {
  const photo = useAppStore((s) => s.input.photo);
  const input = useAppStore((s) => s.input);
  const notes = useAppStore((s) => s.input.notes);
  return (
    <section className="card input-card" aria-label="Image">
      {input.blob && (
        <figure className="input-thumb">
          <figcaption>Input</figcaption>
          <div className="thumb-wrap">
            {photo ? (
              <HeatmapCanvas label={`Input photo ${input.name ?? ''}`.trim()} photo={photo} map={null} mapSize={[photo.height, photo.width]} colormap="turbo" opacity={0} range={[0, 1]} />
            ) : (
              <div className="placeholder">{input.decoding ? 'Reading the photo…' : ''}</div>
            )}
          </div>
          <div className="panel-foot">
            <span className="small muted panel-status" title={input.name ?? ''}>
              {input.width > 0 ? `${input.name ?? 'image'} · ${input.width}×${input.height}` : (input.name ?? '')}
            </span>
            <ExportButton id="input" ready={photo !== null} />
          </div>
          {notes.length > 0 && (
            <ul className="notes warn" aria-label="About this photo">
              {notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </figure>
      )}
      <InputError />
      <ImageInput />
      {input.blob && (
        <div className="more-samples">
          <span className="small muted">Samples</span>
          <SampleButtons />
        </div>
      )}
    </section>
  );
}
