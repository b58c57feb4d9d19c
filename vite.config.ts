import { defineConfig, loadEnv, type Plugin, type Connect } from 'vite';
import react from '@vitejs/plugin-react';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const sharedDir = path.resolve(root, process.env.FUSION_CAM_SHARED ?? '../shared');

/**
 * Pitfall 1: tfjs builds its pthread workers from `wasmFactoryThreadedSimd.toString()`, and the
 * production minifier rewrites the `_scriptDir` test inside that function into a reference to a
 * renamed closure variable, so every pthread dies with "e is not defined". The statement is
 * useless to us (setWasmPaths gives explicit URLs), so we delete it, and fail loudly if a tfjs
 * upgrade changes it, rather than silently breaking threaded wasm again.
 */
function tfjsThreadedWasmFix(): Plugin {
  const pattern = 'if(typeof _scriptDir !== "undefined" && _scriptDir){scriptDirectory=_scriptDir}';
  return {
    name: 'fusion-cam:tfjs-threaded-wasm-fix',
    apply: 'build',
    transform(code, id) {
      if (!id.replace(/\\/g, '/').includes('tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')) return null;
      if (!code.includes(pattern)) {
        throw new Error(`tfjs-threaded-wasm-fix: the _scriptDir statement was not found in ${id}; the tfjs wasm build changed, re-check docs/platform-notes.md note 1`);
      }
      return { code: code.split(pattern).join(''), map: null };
    },
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Read-only static serving of the shared models and labels at /models/ and /labels/ (dev and
 * preview), so development and tests never reach the internet. Paths are resolved and checked
 * to stay inside their folder.
 */
function sharedAssets(): Plugin {
  const mounts: [string, string][] = [
    ['/models/', path.join(sharedDir, 'models')],
    ['/labels/', path.join(sharedDir, 'labels')],
  ];
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = req.url ?? '';
    const mount = mounts.find(([prefix]) => url.startsWith(prefix));
    if (!mount) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD');
      return res.end('Method not allowed');
    }
    const [prefix, dir] = mount;
    let rel: string;
    try {
      rel = decodeURIComponent(url.slice(prefix.length).split(/[?#]/)[0]);
    } catch {
      res.statusCode = 400;
      return res.end('Bad path');
    }
    const file = path.resolve(dir, rel);
    if (rel.includes('\0') || (file !== dir && !file.startsWith(dir + path.sep))) {
      res.statusCode = 403;
      return res.end('Forbidden');
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.statusCode = 404;
        return res.end('Not found');
      }
      res.statusCode = 200;
      res.setHeader('Content-Type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream');
      res.setHeader('Content-Length', String(st.size));
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.setHeader('Cache-Control', 'no-cache');
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  };
  return {
    name: 'fusion-cam:shared-assets',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

// Threaded wasm needs SharedArrayBuffer, which needs cross-origin isolation.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Content-Security-Policy of the production build: no inline script and no eval. tfjs's wasm
 * backend needs 'wasm-unsafe-eval' (WebAssembly compilation) and blob: for its pthread workers,
 * which it starts from a blob URL and which importScripts() another blob. connect-src allows
 * https: because model and image URLs are the user's choice; nothing is ever sent (GETs only).
 */
export const CSP_DIRECTIVES: [string, string][] = [
  ['default-src', "'self'"],
  ['script-src', "'self' 'wasm-unsafe-eval' blob:"],
  ['worker-src', "'self' blob:"],
  ['connect-src', "'self' https: blob: data:"],
  ['img-src', "'self' blob: data:"],
  ['style-src', "'self'"],
  ['font-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
];
const csp = (directives: [string, string][]) => directives.map(([k, v]) => `${k} ${v}`).join('; ');
export const PRODUCTION_HEADERS: Record<string, string> = {
  'Content-Security-Policy': csp(CSP_DIRECTIVES),
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * For static hosting: the built index.html carries the CSP as a <meta> tag (frame-ancestors is
 * not allowed there), and dist/_headers holds every header for hosts that read that file
 * (Netlify, Cloudflare Pages). Dev mode is left alone: Vite's dev client injects inline script.
 */
function productionSecurityHeaders(): Plugin {
  return {
    name: 'fusion-cam:production-security-headers',
    apply: 'build',
    transformIndexHtml() {
      const content = csp(CSP_DIRECTIVES.filter(([k]) => k !== 'frame-ancestors'));
      return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content }, injectTo: 'head-prepend' }];
    },
    generateBundle() {
      const lines = Object.entries(PRODUCTION_HEADERS).map(([k, v]) => `  ${k}: ${v}`);
      this.emitFile({ type: 'asset', fileName: '_headers', source: `/*\n${lines.join('\n')}\n` });
    },
  };
}

export default defineConfig(({ mode }) => ({
  plugins: [react(), tfjsThreadedWasmFix(), sharedAssets(), productionSecurityHeaders()],
  define: {
    __APP_VERSION__: JSON.stringify(pkg.version),
    // dev and tests read models from the local mirror; a production build points at Google's
    // storage unless VITE_MODEL_BASE is set (the e2e tests build with VITE_MODEL_BASE=/models/)
    ...(mode === 'development' || mode === 'test'
      ? { 'import.meta.env.VITE_MODEL_BASE': JSON.stringify(loadEnv(mode, root, 'VITE_').VITE_MODEL_BASE || '/models/') }
      : {}),
  },
  worker: {
    format: 'es',
    plugins: () => [tfjsThreadedWasmFix()],
  },
  server: { headers: isolationHeaders },
  // pre-bundle every dependency the app and its workers import, so the first dev visit does not
  // discover them late and reload the page (issue 14, defect 13)
  optimizeDeps: {
    entries: ['index.html', 'src/worker/*.ts'],
    include: ['react', 'react-dom', 'react-dom/client', 'zustand', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm'],
  },
  preview: { headers: PRODUCTION_HEADERS },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
}));
