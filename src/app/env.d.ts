/** Injected by vite.config.ts from package.json. */
declare const __APP_VERSION__: string;

interface ImportMetaEnv {
  /** Folder holding `<model>/model.json` (dev and tests: /models/); unset = Google's storage. */
  readonly VITE_MODEL_BASE?: string;
}
