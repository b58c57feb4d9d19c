/**
 * Deferred canvas drawing for the many small canvases (layer thumbnails: one per candidate layer,
 * ~80 on MobileNet). Drawing them all inside one React commit made 100–150 ms main-thread tasks
 * whenever a photo or colormap changed; here each canvas's latest draw waits in a queue that runs
 * in slices of a few milliseconds between tasks, canvases on screen first, so input and the main
 * panels are never held up. Every queued draw still happens: nothing is skipped, only ordered.
 */

const SLICE_MS = 6;

const jobs = new Map<HTMLCanvasElement, () => void>();
const onScreen = new Set<Element>();
const observed = new WeakSet<Element>();
let observer: IntersectionObserver | null = null;
let scheduled = false;

function observe(canvas: HTMLCanvasElement): void {
  if (observed.has(canvas) || typeof IntersectionObserver === 'undefined') return;
  observed.add(canvas);
  observer ??= new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) onScreen.add(e.target);
      else onScreen.delete(e.target);
    }
  });
  observer.observe(canvas);
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setTimeout(drain, 0);
}

function drain(): void {
  scheduled = false;
  const t0 = performance.now();
  while (jobs.size > 0 && performance.now() - t0 < SLICE_MS) {
    let next: HTMLCanvasElement | undefined;
    for (const c of jobs.keys()) {
      if (onScreen.has(c)) {
        next = c;
        break;
      }
    }
    next ??= jobs.keys().next().value!;
    const job = jobs.get(next)!;
    jobs.delete(next);
    job();
  }
  if (jobs.size > 0) schedule();
}

/**
 * Queues `draw` for `canvas`, replacing a draw it had queued (only the latest state matters).
 * Returns the cancel function (for an effect's cleanup: the canvas went away or changed again).
 */
export function queueDraw(canvas: HTMLCanvasElement, draw: () => void): () => void {
  observe(canvas);
  jobs.set(canvas, draw);
  schedule();
  return () => {
    if (jobs.get(canvas) === draw) jobs.delete(canvas);
  };
}

/** Stops watching a canvas that left the page. */
export function forgetCanvas(canvas: HTMLCanvasElement): void {
  jobs.delete(canvas);
  onScreen.delete(canvas);
  observed.delete(canvas);
  observer?.unobserve(canvas);
}

/** Draws still queued (tests wait for 0; the benchmark and e2e tests read each canvas's data-drawn). */
export function pendingDraws(): number {
  return jobs.size;
}
