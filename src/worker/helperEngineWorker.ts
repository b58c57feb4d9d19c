/**
 * The Score-CAM helper: a second engine in its own worker. tfjs's wasm backend uses one thread
 * per two cores (docs/platform-notes.md note 3), so on a 2-core machine the engine worker alone leaves a core idle
 * during the K forward passes of Score-CAM. This worker holds the same model and image and
 * scores the batches of channels the engine worker hands it (from the back of its order), so
 * both cores work on one Score-CAM. It also draws the layer picker's thumbnails, so the engine
 * worker stays free for what the user is doing (a θ change waits for no thumbnail), and, once
 * a Fusion-CAM is shown, scores the masked inputs of other θ ahead so that moving the θ slider
 * costs the engine no forward pass. It answers one request at a time.
 */
import { ExplanationSession } from '../engine/session';
import { layerThumbnails } from '../engine/model/layerThumbnails';
import type { ExplainableModel } from '../engine/model/explainable';
import { selectBackend } from './backend';
import { build } from './modelManager';
import type { HelperReply, HelperRequest, HelperSessionRef, PortableModelSource } from './helperEngineProtocol';

interface Scope {
  postMessage(m: HelperReply, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<HelperRequest>) => void) | null;
}
const scope = self as unknown as Scope;

let model: { version: number; model: ExplainableModel } | null = null;
let session: { key: string; version: number; session: ExplanationSession } | null = null;

function dropSession(): void {
  session?.session.dispose();
  session = null;
}

async function loadModel(version: number, p: PortableModelSource): Promise<void> {
  const files = p.files.map((f) => ({ name: f.name, arrayBuffer: async () => f.data }));
  const built = await build({ ...p, files, guess: null, fromCache: false });
  dropSession();
  model?.model.dispose();
  model = { version, model: built.model };
}

/** The helper's session for this image and layer (a new key: a new session). */
async function sessionFor(req: Pick<HelperSessionRef, 'version' | 'key' | 'input' | 'layer'>): Promise<ExplanationSession> {
  if (!model || model.version !== req.version) throw new Error('the helper does not hold this model');
  if (!session || session.key !== req.key || session.version !== req.version) {
    dropSession();
    session = { key: req.key, version: req.version, session: await ExplanationSession.create(model.model, req.input, req.layer) };
  }
  return session.session;
}

async function handle(req: HelperRequest): Promise<void> {
  switch (req.type) {
    case 'init': {
      const b = await selectBackend('wasm', req.wasmBuild);
      scope.postMessage({ type: 'ready', backend: b.backend });
      return;
    }
    case 'model':
      try {
        await loadModel(req.version, req.src);
      } catch (e) {
        model?.model.dispose();
        model = null;
        scope.postMessage({ type: 'error', message: `The Score-CAM helper could not build the model: ${(e as Error).message}` });
      }
      return;
    case 'scores': {
      try {
        const values = await (await sessionFor(req)).scoreCamChannelScores(req.classIndex, req.variant, req.channels, req.batchSize);
        scope.postMessage({ type: 'scores', id: req.id, values }, [values.buffer]);
      } catch (e) {
        scope.postMessage({ type: 'error', id: req.id, message: (e as Error).message });
      }
      return;
    }
    case 'fusionStages': {
      try {
        const answers = await (await sessionFor(req)).fusionStageProbabilities(req.classIndex, req.maps, req.params, req.thetas, req.batchSize);
        scope.postMessage({ type: 'fusionStages', id: req.id, answers });
      } catch (e) {
        scope.postMessage({ type: 'error', id: req.id, message: (e as Error).message });
      }
      return;
    }
    case 'thumbs': {
      try {
        if (!model || model.version !== req.version) throw new Error('the helper does not hold this model');
        const thumbs = (await layerThumbnails(model.model, req.input, req.classIndex, { layers: req.layers, size: req.size })).map((t) => ({ map: t.map, size: t.size, allZero: t.allZero, error: t.error }));
        scope.postMessage({ type: 'thumbs', id: req.id, thumbs }, thumbs.map((t) => t.map.buffer));
      } catch (e) {
        scope.postMessage({ type: 'error', id: req.id, message: (e as Error).message });
      }
      return;
    }
  }
}

// Score-CAM batches before thumbnails: a thumbnail can wait, the user's Score-CAM should not
const urgent: HelperRequest[] = [];
const background: HelperRequest[] = [];
let running = false;

async function pump(): Promise<void> {
  running = true;
  let lastUrgent = false;
  for (;;) {
    // right after a Score-CAM batch the next one is on its way: give it a moment before
    // starting a thumbnail, or every batch would wait behind one
    if (lastUrgent && urgent.length === 0 && background.length > 0) await new Promise((r) => setTimeout(r, 50));
    const req = urgent.shift() ?? background.shift();
    if (!req) break;
    lastUrgent = req.type === 'scores';
    await handle(req);
  }
  running = false;
}

scope.onmessage = (e) => {
  const req = e.data;
  if (req.type === 'thumbs') {
    // new thumbnails mean a new image or model: drop the older background work still waiting
    for (const old of background.splice(0)) scope.postMessage({ type: 'error', id: (old as { id: number }).id, message: 'superseded by a newer request' });
  }
  if (req.type === 'scores') {
    // θ scored ahead for another image or layer would only rebuild that session: drop it
    for (let i = background.length - 1; i >= 0; i--) {
      const old = background[i];
      if (old.type === 'fusionStages' && old.key !== req.key) {
        background.splice(i, 1);
        scope.postMessage({ type: 'error', id: old.id, message: 'superseded by a newer request' });
      }
    }
  }
  // thumbnails and θ scored ahead can wait; Score-CAM batches cannot
  (req.type === 'thumbs' || req.type === 'fusionStages' ? background : urgent).push(req);
  if (!running) void pump();
};
