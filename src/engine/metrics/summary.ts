/**
 * Per-method summary of evaluation rows (the authors' table layout) and CSV cells, shared by
 * `fusion-cam evaluate` and the app's batch evaluation so both report the same numbers.
 */
import { mean, type FaithfulnessResult } from './faithfulness';

/** The fields of one image × method row that the summary reads. */
export interface SummarizableRow {
  method: string;
  model: string;
  averageDrop: number;
  increase: number;
  deletionAuc: number;
  insertionAuc: number;
  /** '' (or absent) when the image has no boxes. */
  pointing?: number | '';
  energyPointing?: number | '';
}

export interface SummaryRow {
  method: string;
  model: string;
  images: number;
  averageDrop: number;
  increase: number;
  deletion: number;
  insertion: number;
  pointing?: number;
  energyPointing?: number;
}

/** One image × method: the columns the CLI's evaluate and the app's batch evaluation both write. */
export interface MetricsRow {
  image: string;
  method: string;
  model: string;
  layer: string;
  classIndex: number;
  className: string;
  probability: number;
  maskedProbability: number;
  averageDrop: number;
  increase: number;
  deletionAuc: number;
  insertionAuc: number;
  mapMs: number;
  metricsMs: number;
}

/** The one builder of evaluation rows: what was explained, the faithfulness numbers, and the times (rounded to ms). */
export function metricsRow(
  what: Pick<MetricsRow, 'image' | 'method' | 'model' | 'layer' | 'classIndex' | 'className'>,
  r: FaithfulnessResult,
  ms: { map: number; metrics: number },
): MetricsRow {
  return {
    ...what,
    probability: r.original,
    maskedProbability: r.masked,
    averageDrop: r.drop,
    increase: r.increase,
    deletionAuc: r.deletion.auc,
    insertionAuc: r.insertion.auc,
    mapMs: Math.round(ms.map),
    metricsMs: Math.round(ms.metrics),
  };
}

/** Means per method, in `methods` order; methods without rows are left out. */
export function summarizeByMethod(rows: SummarizableRow[], methods: string[]): SummaryRow[] {
  return methods
    .map((m) => {
      const r = rows.filter((x) => x.method === m);
      const withBoxes = r.filter((x) => x.pointing !== '' && x.pointing !== undefined);
      const s: SummaryRow = {
        method: m,
        model: r[0]?.model ?? '',
        images: r.length,
        averageDrop: mean(r.map((x) => x.averageDrop)),
        increase: mean(r.map((x) => x.increase)),
        deletion: mean(r.map((x) => x.deletionAuc)),
        insertion: mean(r.map((x) => x.insertionAuc)),
      };
      if (withBoxes.length > 0) {
        s.pointing = mean(withBoxes.map((x) => x.pointing as number));
        s.energyPointing = mean(withBoxes.map((x) => x.energyPointing as number));
      }
      return s;
    })
    .filter((s) => s.images > 0);
}

/** One CSV cell: integers as is, other numbers to 8 significant digits, quoted when needed. */
export function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(8)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no newline) of `row`'s `columns`. */
export function csvLine<T>(row: T, columns: (keyof T)[]): string {
  return columns.map((k) => csvCell(row[k])).join(',');
}
