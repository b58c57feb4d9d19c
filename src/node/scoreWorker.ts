/**
 * A Score-CAM worker thread for the CLI: a second engine on another core. tfjs's wasm backend
 * is single-threaded in Node, so one engine leaves the other cores idle during Score-CAM's K
 * forward passes. This thread loads the same model (same path or URL, same flags) on the same
 * backend once, builds a session for each image it is sent, and scores the channels the main
 * thread hands it (from the back of the channel order; see scoreCamRun). One request at a time,
 * in the order received. Started by ScoreWorkers (scoreWorkers.ts).
 */
import { parentPort } from 'node:worker_threads';
import { ExplanationSession } from '../engine/session';
import type { ExplainableModel } from '../engine/model/explainable';
import { loadCamModel } from '../cli/common';
import { initNodeBackend } from './backend';
import type { ScoreWorkerReply, ScoreWorkerRequest } from './scoreWorkerProtocol';

const port = parentPort!;
const post = (m: ScoreWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let model: ExplainableModel | null = null;
/** The session's image, kept until the first request for it (a session costs a forward pass). */
let next: { key: number; input: Float32Array; layer: string } | null = null;
let session: { key: number; session: ExplanationSession } | null = null;

async function sessionFor(key: number): Promise<ExplanationSession> {
  if (session?.key === key) return session.session;
  if (!model) throw new Error('the worker holds no model');
  if (next?.key !== key) throw new Error(`the worker was not sent image ${key}`);
  session?.session.dispose();
  session = null;
  const s = await ExplanationSession.create(model, next.input, next.layer);
  session = { key, session: s };
  next = null;
  return s;
}

async function handle(req: ScoreWorkerRequest): Promise<void> {
  switch (req.type) {
    case 'init':
      try {
        const backend = await initNodeBackend(req.backend);
        model = await loadCamModel(req.model);
        post({ type: 'ready', backend });
      } catch (e) {
        post({ type: 'error', message: (e as Error).message.split('\n')[0] });
      }
      return;
    case 'session':
      next = { key: req.key, input: req.input, layer: req.layer };
      return;
    case 'scores':
      try {
        const s = await sessionFor(req.key);
        const values = await s.scoreCamChannelScores(req.classIndex, req.variant, req.channels, req.batchSize);
        post({ type: 'scores', id: req.id, values }, [values.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: 'error', id: req.id, message: (e as Error).message.split('\n')[0] });
      }
      return;
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: ScoreWorkerRequest) => {
  queue = queue.then(() => handle(req));
});
