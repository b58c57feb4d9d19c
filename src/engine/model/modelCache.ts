/**
 * Offline copies of downloaded models in IndexedDB (raw IndexedDB, so it works in a page and in
 * a Web Worker alike), keyed by the model.json URL. An entry holds the model.json text and
 * every weight file as an ArrayBuffer.
 *
 * Policy (used by fetchModel.ts): the small model.json is always fetched from the network when
 * possible; if it is byte-identical to the cached one, the weights come from the cache (no
 * download); if it changed, everything is downloaded and the entry replaced; if the network
 * fails (offline), the cached entry is used as is.
 */

export interface CachedModel {
  url: string;
  /** model.json exactly as downloaded. */
  jsonText: string;
  /** Weight files by their path in the manifest. */
  files: Record<string, ArrayBuffer>;
  bytes: number;
  savedAt: number;
}

export interface ModelCache {
  get(url: string): Promise<CachedModel | undefined>;
  put(entry: CachedModel): Promise<void>;
  delete(url: string): Promise<void>;
  /** What is stored, without the weights. */
  list(): Promise<{ url: string; bytes: number; savedAt: number }[]>;
}

const DB_NAME = 'fusion-cam-models';
const STORE = 'models';

function promisify<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * Opens the cache, or returns null when IndexedDB is unavailable (Node, private browsing
 * modes that refuse it): callers then simply download every time.
 */
export async function openModelCache(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<ModelCache | null> {
  if (!factory) return null;
  let db: IDBDatabase;
  try {
    db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'url' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
      req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
    });
  } catch {
    return null;
  }
  const tx = (mode: IDBTransactionMode) => db.transaction(STORE, mode).objectStore(STORE);
  const done = (t: IDBObjectStore) =>
    new Promise<void>((resolve, reject) => {
      t.transaction.oncomplete = () => resolve();
      t.transaction.onerror = () => reject(t.transaction.error ?? new Error('IndexedDB write failed'));
      t.transaction.onabort = () => reject(t.transaction.error ?? new Error('IndexedDB write aborted (quota exceeded?)'));
    });
  return {
    async get(url) {
      return (await promisify(tx('readonly').get(url))) as CachedModel | undefined;
    },
    async put(entry) {
      const store = tx('readwrite');
      const finished = done(store);
      store.put(entry);
      await finished;
    },
    async delete(url) {
      const store = tx('readwrite');
      const finished = done(store);
      store.delete(url);
      await finished;
    },
    async list() {
      const store = tx('readonly');
      const out: { url: string; bytes: number; savedAt: number }[] = [];
      await new Promise<void>((resolve, reject) => {
        const req = store.openCursor();
        req.onsuccess = () => {
          const cur = req.result;
          if (!cur) return resolve();
          const v = cur.value as CachedModel;
          out.push({ url: v.url, bytes: v.bytes, savedAt: v.savedAt });
          cur.continue();
        };
        req.onerror = () => reject(req.error);
      });
      return out;
    },
  };
}
