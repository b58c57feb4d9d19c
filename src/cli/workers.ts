/**
 * The CLI's Score-CAM worker threads, per command. Light on purpose (no engine, no tfjs): main.ts
 * starts the threads from the raw arguments before it loads the command's module, so a thread
 * imports tfjs and loads the model while the main thread does the same (≈ 1 s earlier than from
 * inside the command, which matters for small models, whose whole Score-CAM takes ≈ 2 s).
 */
import { parseArgs } from 'node:util';
import { defaultWorkerCount, ScoreWorkers, type RemoteRun, type ScoreRun } from '../node/scoreWorkers';
import type { NodeBackend } from '../node/backend';

/** The --workers lines of both commands' usage. */
export const WORKERS_USAGE = `--workers N: threads (engines) sharing Score-CAM's forward passes, one per core (default 2 when
  there are 2 or more cores, else 1; 1 = the main thread only). The maps are the same for every N.`;

/** Whether any of the methods runs Score-CAM (the only method the worker threads help). */
export function usesScoreCam(methods: string[], regionMethod: string): boolean {
  const region = (m: string) => m === 'scorecam' || m === 'unioncam';
  return methods.some((m) => region(m) || (m === 'fusioncam' && region(regionMethod)));
}

/** The model flags the threads load the model with (the main thread's loadCamModel arguments). */
export interface WorkerModelArgs {
  model?: string;
  preprocessing?: string;
  labels?: string;
}

/**
 * The worker threads of one command. Their failure lines wait until arm() (called once the main
 * thread has its model), so a model that cannot load is reported once, by the main thread, not
 * again by each worker; a command that ends before arm() says nothing about them.
 */
export class CliScoreWorkers {
  private armed = false;
  private readonly notes: string[] = [];
  private readonly pool: ScoreWorkers | null;

  /** `workers` engines in all: workers − 1 threads besides the main one. */
  constructor(
    readonly workers: number,
    private readonly args: WorkerModelArgs,
    private readonly backend: string,
  ) {
    const log = (line: string) => (this.armed ? process.stderr.write(line + '\n') : this.notes.push(line));
    this.pool = workers > 1 && args.model ? ScoreWorkers.start(workers - 1, { backend: backend as NodeBackend, model: { model: args.model, preprocessing: args.preprocessing, labels: args.labels } }, log) : null;
  }

  /** Started with these settings (so a command can adopt threads main.ts started). */
  matches(workers: number, args: WorkerModelArgs, backend: string): boolean {
    return workers === this.workers && backend === this.backend && args.model === this.args.model && args.preprocessing === this.args.preprocessing && args.labels === this.args.labels;
  }

  arm(): void {
    this.armed = true;
    for (const line of this.notes.splice(0)) process.stderr.write(line + '\n');
  }

  /** remoteScores (and its progress hook) for one Score-CAM run; null when no thread is left. */
  run(run: ScoreRun): RemoteRun | null {
    return this.pool && this.pool.live > 0 ? this.pool.run(run) : null;
  }

  /** "a second worker" / "3 other workers", for "(N on …)". */
  get others(): string {
    return this.workers === 2 ? 'a second worker' : `${this.workers - 1} other workers`;
  }

  stop(): Promise<void> {
    return this.pool?.stop() ?? Promise.resolve();
  }
}

/**
 * The command's threads started from its raw arguments, before the command parses them (null
 * when they would not be used, or the arguments are not clear enough to tell). The command
 * checks them (matches) and adopts or stops them.
 */
export function earlyScoreWorkers(command: 'explain' | 'evaluate', argv: string[]): CliScoreWorkers | null {
  let v: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    v = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        preprocessing: { type: 'string' },
        labels: { type: 'string' },
        'class-names': { type: 'string' },
        workers: { type: 'string' },
        backend: { type: 'string' },
        methods: { type: 'string' },
        'region-method': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: false,
      allowPositionals: true,
    }).values;
  } catch {
    return null;
  }
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const model = str('model');
  if (v.help || !model) return null;
  const workers = v.workers === undefined ? defaultWorkerCount() : Number(str('workers'));
  if (!Number.isInteger(workers) || workers < 2 || workers > 64) return null;
  const methods = (str('methods') ?? 'gradcam,scorecam,fusioncam').split(',').map((s) => s.trim());
  if (!usesScoreCam(methods, str('region-method') ?? 'scorecam')) return null;
  const backend = v.backend === undefined ? 'wasm' : str('backend');
  if (backend !== 'wasm' && backend !== 'cpu') return null;
  const labels = command === 'explain' ? str('labels') : str('class-names');
  return new CliScoreWorkers(workers, { model, preprocessing: str('preprocessing'), labels }, backend);
}
