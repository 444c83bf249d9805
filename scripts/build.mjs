#!/usr/bin/env node
// Bundles the gate into dist/ with esbuild: the main program and the two thread entry points (worker
// pool task, journal writer). Threads then load plain JavaScript — Node 20 cannot load .ts in worker
// threads without a loader, and loading one per thread cost ~1 s of start-up on 2 cores.
// Dependencies stay external (uWebSockets.js is a native addon; the rest resolve from node_modules).
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
const result = await build({
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
  write: false,
  banner: { js: "import { createRequire as __aurora_cr } from 'node:module'; const require = __aurora_cr(import.meta.url);" },
});
// Each file is replaced atomically (write a temporary, then rename): several `npm start` may run at
// once (parallel conformance runs), and a process must never import a half-written bundle.
mkdirSync(resolve(root, 'dist'), { recursive: true });
for (const f of result.outputFiles) {
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}
if (!process.argv.includes('--quiet')) console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
