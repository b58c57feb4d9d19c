/**
 * The page's one connection to the engine worker: this module owns the Worker and `send`; the
 * clients (engineClient, modelClient, evaluationClient) send through it and subscribe to its
 * replies, so none of them imports another to reach the worker.
 */
import type { WorkerReply, WorkerRequest } from '../worker/protocol';

let worker: Worker | null = null;
const listeners = new Set<(msg: WorkerReply) => void>();

/** Starts the engine worker once; false when it already runs. */
export function startWorker(onError: (message: string) => void): boolean {
  if (worker) return false;
  // module worker: the engine (tfjs wasm/webgl) runs synchronously on the thread that calls it
  worker = new Worker(new URL('../worker/engineWorker.ts', import.meta.url), { type: 'module', name: 'fusion-cam-engine' });
  worker.onmessage = (e: MessageEvent<WorkerReply>) => listeners.forEach((l) => l(e.data));
  worker.onerror = (e) => onError(e.message || 'unknown error');
  return true;
}

export function send(req: WorkerRequest, transfer: Transferable[] = []): void {
  worker?.postMessage(req, transfer);
}

/** Every reply of the worker, in the order the listeners subscribed. */
export function subscribe(listener: (msg: WorkerReply) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
