#!/usr/bin/env node
// Bundles the gate into dist/ with esbuild: the main program and the two thread entry points (worker
// pool task, journal writer). Threads then load plain JavaScript — Node 20 cannot load .ts in worker
// threads without a loader, and loading one per thread cost ~1 s of start-up on 2 cores.
// Dependencies stay external (uWebSockets.js is a native addon; the rest resolve from node_modules).
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'src/main.ts',
    worker: 'src/pool/worker.ts',
    'writer-thread': 'src/journal/writer-thread.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __aurora_cr } from 'node:module'; const require = __aurora_cr(import.meta.url);" },
});
if (!process.argv.includes('--quiet')) console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
