/**
 * The CLI's side of its Score-CAM worker threads (scoreWorker.ts), the Node counterpart of the
 * app's HelperEngine (src/worker/helperEngine.ts): starts them, sends each the image once, and
 * turns "score these channels" into a promise for RegionContext.remoteScores. Score-CAM takes
 * batches from the front of the channel order on the main thread and hands batches from the back
 * to these workers; any failure of a worker rejects, and Score-CAM scores those channels itself,
 * so the map is the same with or without workers. A worker that fails is stopped and reported
 * once (one line); the others carry on.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RegionVariant } from '../engine/methods/region';
import type { NodeBackend } from './backend';
import type { ScoreWorkerModel, ScoreWorkerReply, ScoreWorkerRequest } from './scoreWorkerProtocol';

/** Engines (threads) to use by default: two when there are two cores, else one. */
export function defaultWorkerCount(): number {
  return os.availableParallelism() >= 2 ? 2 : 1;
}

export interface ScoreWorkersInit {
  backend: NodeBackend;
  model: ScoreWorkerModel;
}

/** One Score-CAM run (one image, layer, class and variant) to share with the workers. */
export interface ScoreRun {
  /** Names the image: the same key for every run on the same input and layer, a new one for a new image. */
  key: number;
  /** The session's input, H×W×3 in model input space (copied to each worker once per key). */
  input: Float32Array;
  layer: string;
  classIndex: number;
  variant: RegionVariant;
  batchSize: number;
}

export interface RemoteRun {
  /** RegionContext.remoteScores / RegionRunOptions.remoteScores. */
  scores(channels: number[]): Promise<Float32Array>;
  /**
   * Feed it the run's progress (RegionRunOptions.onProgress): a request still waiting for a
   * worker to load the model is withdrawn once the main thread has nothing else left to score,
   * so the main thread scores it instead of waiting for a slow start.
   */
  progress(done: number, total: number): void;
  /** Forward passes (channels) the workers have scored for this run so far. */
  readonly passes: number;
}

/**
 * A worker thread running a TypeScript entry: the CLI runs under tsx (bin/fusion-cam.js) or
 * Vitest, and neither reaches a new thread, so the thread registers tsx itself, then imports it.
 */
function startTsWorker(entry: URL, name: string): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, name });
}

type State = 'starting' | 'ready' | 'failed' | 'stopped';

/** One worker thread and its requests. */
class ScoreWorker {
  private readonly worker: Worker;
  private state: State = 'starting';
  private reason = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: Float32Array): void; reject(e: Error): void }>();
  private sentKey: number | null = null;

  constructor(
    init: ScoreWorkersInit,
    name: string,
    private readonly onFail: (reason: string) => void,
    private readonly onChange: () => void,
  ) {
    this.worker = startTsWorker(new URL('./scoreWorker.ts', import.meta.url), name);
    this.worker.on('message', (m: ScoreWorkerReply) => this.onReply(m));
    this.worker.on('error', (e: Error) => this.fail(`it stopped with an error: ${e.message.split('\n')[0]}`));
    this.worker.on('exit', (code: number) => this.fail(`it exited with code ${code}`));
    // only a thread with work to do keeps the process alive (a forgotten stop() cannot hang it)
    this.worker.unref();
    this.post({ type: 'init', backend: init.backend, model: init.model });
  }

  get usable(): boolean {
    return this.state === 'starting' || this.state === 'ready';
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  score(run: ScoreRun, channels: number[]): Promise<Float32Array> {
    if (!this.usable) return Promise.reject(new Error(this.reason));
    return new Promise<Float32Array>((resolve, reject) => {
      if (this.sentKey !== run.key) {
        this.post({ type: 'session', key: run.key, input: run.input, layer: run.layer });
        this.sentKey = run.key;
      }
      const id = this.nextId++;
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'scores', id, key: run.key, classIndex: run.classIndex, variant: run.variant, channels, batchSize: run.batchSize });
    });
  }

  /** Stops the thread (its pending requests reject); resolves when it has exited. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasFailed = this.state === 'failed';
    this.state = 'stopped';
    this.rejectAll('the Score-CAM worker was stopped');
    if (!wasFailed) await this.worker.terminate();
  }

  /** Ends the thread abruptly, as a crash would (tests of the fallback). */
  crash(): void {
    void this.worker.terminate();
  }

  private post(m: ScoreWorkerRequest): void {
    this.worker.postMessage(m);
  }

  private settle(id: number): { resolve(v: Float32Array): void; reject(e: Error): void } | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return p;
  }

  private onReply(m: ScoreWorkerReply): void {
    if (!this.usable) return;
    if (m.type === 'ready') {
      this.state = 'ready';
      this.onChange();
    }
    else if (m.type === 'scores') this.settle(m.id)?.resolve(m.values);
    else if (m.id === undefined) this.fail(`it could not start: ${m.message}`);
    else {
      // a request it could not answer: this run scores the rest itself, and the worker is not asked again
      this.settle(m.id)?.reject(new Error(m.message));
      this.fail(`it could not score a batch: ${m.message}`);
    }
  }

  private rejectAll(reason: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.worker.unref();
    for (const p of all) p.reject(new Error(reason));
  }

  private fail(reason: string): void {
    if (!this.usable) return;
    this.state = 'failed';
    this.reason = reason;
    this.rejectAll(reason);
    this.onFail(reason);
    this.onChange();
    void this.worker.terminate().catch(() => undefined);
  }
}

/** The CLI's Score-CAM worker threads (engines besides the main thread's). */
export class ScoreWorkers {
  private readonly workers: ScoreWorker[] = [];
  /** Called when a worker becomes ready or fails (requests waiting for a ready worker look again). */
  private readonly waiting = new Set<() => void>();

  private constructor() {}

  /**
   * Starts `count` worker threads (each loads the model in the background); null when count < 1
   * or none could start (then Score-CAM runs on the main thread alone, as with --workers 1).
   * `log` gets one line for each worker that cannot start or fails later.
   */
  static start(count: number, init: ScoreWorkersInit, log: (line: string) => void): ScoreWorkers | null {
    const pool = new ScoreWorkers();
    const changed = () => [...pool.waiting].forEach((f) => f());
    for (let i = 0; i < count; i++) {
      const label = count === 1 ? 'the second Score-CAM worker' : `Score-CAM worker ${i + 2} of ${count + 1}`;
      const onFail = (reason: string) => log(`note: ${label} failed (${reason}); its channels are scored on the main thread`);
      try {
        pool.workers.push(new ScoreWorker(init, `fusion-cam score-cam ${i + 2}`, onFail, changed));
      } catch (e) {
        onFail(`it could not start: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    return pool.workers.length > 0 ? pool : null;
  }

  /** Worker threads that are starting or ready (not failed or stopped). */
  get live(): number {
    return this.workers.filter((w) => w.usable).length;
  }

  /** Worker threads that have loaded the model. */
  get ready(): number {
    return this.workers.filter((w) => w.ready).length;
  }

  /**
   * remoteScores for one run: each request (one batch from the back of the channel order) is
   * split into contiguous parts, one per ready worker, and the scores put back in order. Before
   * any worker is ready the request waits (see RemoteRun.progress).
   */
  run(run: ScoreRun): RemoteRun {
    let passes = 0;
    /** Channels of this run's requests not answered yet (waiting for a worker, or sent). */
    let outstanding = 0;
    /** Requests waiting for a worker to be ready: withdraw() rejects one. */
    const held = new Set<() => void>();
    const readyWorkers = async (): Promise<ScoreWorker[]> => {
      for (;;) {
        const ready = this.workers.filter((w) => w.ready);
        if (ready.length > 0) return ready;
        if (!this.workers.some((w) => w.usable)) throw new Error('no Score-CAM worker is running');
        await new Promise<void>((resolve, reject) => {
          const wake = () => {
            this.waiting.delete(wake);
            held.delete(withdraw);
            resolve();
          };
          const withdraw = () => {
            this.waiting.delete(wake);
            held.delete(withdraw);
            reject(new Error('withdrawn: no Score-CAM worker was ready in time'));
          };
          this.waiting.add(wake);
          held.add(withdraw);
        });
      }
    };
    const scores = async (channels: number[]): Promise<Float32Array> => {
      outstanding += channels.length;
      try {
        return await scoreOn(await readyWorkers(), channels);
      } finally {
        outstanding -= channels.length;
      }
    };
    const scoreOn = async (ready: ScoreWorker[], channels: number[]): Promise<Float32Array> => {
      const parts = Math.min(ready.length, channels.length);
      const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * channels.length) / parts));
      const got = await Promise.all(ready.slice(0, parts).map((w, i) => w.score(run, channels.slice(bounds[i], bounds[i + 1]))));
      const out = new Float32Array(channels.length);
      got.forEach((values, i) => {
        if (values.length !== bounds[i + 1] - bounds[i]) throw new Error(`a Score-CAM worker returned ${values.length} scores for ${bounds[i + 1] - bounds[i]} channels`);
        out.set(values, bounds[i]);
      });
      passes += channels.length;
      return out;
    };
    return {
      scores,
      progress(done, total) {
        // the main thread has nothing left but the outstanding requests: it takes the held ones
        if (held.size > 0 && done + outstanding >= total) [...held].forEach((withdraw) => withdraw());
      },
      get passes() {
        return passes;
      },
    };
  }

  /** Ends worker thread `index` abruptly, as a crash would: for tests of the fallback. */
  crashForTesting(index = 0): void {
    this.workers[index]?.crash();
  }

  /** Stops every thread; resolves when all have exited. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    [...this.waiting].forEach((f) => f());
  }
}
