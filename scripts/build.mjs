#!/usr/bin/env node
// Bundles the gate into dist/ with esbuild: the main program and the two thread entry points (worker
// pool task, journal writer). Threads then load plain JavaScript — Node 20 cannot load .ts in worker
// threads without a loader, and loading one per thread cost ~1 s of start-up on 2 cores.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
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
  // dependencies stay external (uWebSockets.js is a native addon) — except typebox: its ESM tree is
  // hundreds of small modules, ~0.5 s to import per thread; bundled and tree-shaken it loads in ms
  external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d !== 'typebox'),
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
