import { afterEach, describe, expect, it, vi } from 'vitest';

/** A stand-in IntersectionObserver: the test says which canvases are on screen. */
class FakeObserver {
  static last: FakeObserver | null = null;
  constructor(private readonly cb: (entries: { target: Element; isIntersecting: boolean }[]) => void) {
    FakeObserver.last = this;
  }
  observe(): void {}
  unobserve(): void {}
  show(target: object, on: boolean): void {
    this.cb([{ target: target as Element, isIntersecting: on }]);
  }
}

async function freshQueue() {
  vi.resetModules();
  vi.stubGlobal('IntersectionObserver', FakeObserver);
  return import('./drawQueue');
}

const canvas = (name: string) => ({ name }) as unknown as HTMLCanvasElement;
const tick = () => new Promise((r) => setTimeout(r, 0));
const busy = (ms: number) => {
  const t = performance.now();
  while (performance.now() - t < ms);
};

afterEach(() => vi.unstubAllGlobals());

describe('drawQueue (deferred thumbnail drawing)', () => {
  it('runs every queued draw, only the latest per canvas, none that was cancelled, and never inside the caller', async () => {
    const q = await freshQueue();
    const ran: string[] = [];
    const a = canvas('a');
    const b = canvas('b');
    const c = canvas('c');
    q.queueDraw(a, () => ran.push('a1'));
    q.queueDraw(b, () => ran.push('b1'));
    q.queueDraw(a, () => ran.push('a2')); // replaces a1
    const cancelC = q.queueDraw(c, () => ran.push('c1'));
    cancelC();
    expect(ran).toEqual([]); // deferred, not drawn during the commit that queued it
    expect(q.pendingDraws()).toBe(2);
    await tick();
    expect(ran.sort()).toEqual(['a2', 'b1']);
    expect(q.pendingDraws()).toBe(0);
  });

  it('a stale cancel does not drop the newer draw of the same canvas', async () => {
    const q = await freshQueue();
    const ran: string[] = [];
    const a = canvas('a');
    const cancelFirst = q.queueDraw(a, () => ran.push('old'));
    q.queueDraw(a, () => ran.push('new'));
    cancelFirst(); // the effect cleanup of the first render runs after the second queued
    await tick();
    expect(ran).toEqual(['new']);
  });

  it('draws in slices of a few ms, yielding between them, on-screen canvases first', async () => {
    const q = await freshQueue();
    const ran: string[] = [];
    const names = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const canvases = names.map(canvas);
    canvases.forEach((cv, i) =>
      q.queueDraw(cv, () => {
        busy(2);
        ran.push(names[i]);
      }),
    );
    FakeObserver.last!.show(canvases[10], true);
    FakeObserver.last!.show(canvases[11], true);
    await tick();
    // a 6 ms slice holds about three 2 ms draws, not twelve
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.length).toBeLessThan(6);
    // on a loaded machine one 2 ms draw can outlast the slice: wait for the second on-screen one
    for (let i = 0; i < 5 && ran.length < 2; i++) await tick();
    expect(ran.slice(0, 2)).toEqual(['t10', 't11']);
    for (let i = 0; i < 20 && q.pendingDraws() > 0; i++) await tick();
    expect(ran.slice(2)).toEqual(names.slice(0, 10));
  });
});
