/** A class pinned by the URL (`?class=`) that the model does not have: say so, and explain the fallback. */
import { useAppStore } from '../store';

export function ClassRangeNotice() {
  const classIndex = useAppStore((s) => s.settings.classIndex);
  const numClasses = useAppStore((s) => s.model.info?.numClasses ?? null);
  if (classIndex === null || numClasses === null || classIndex < numClasses) return null;
  return (
    <p className="error" role="alert">
      Class {classIndex} is out of range: this model has classes 0–{numClasses - 1}. The maps show the top prediction instead.
    </p>
  );
}
