#!/usr/bin/env node
// Bundles the gate into dist/ with esbuild: the main program and the two thread entry points (worker
// pool task, journal writer). The options live in scripts/bundle-options.cjs, shared with
// src/thread-module.ts (which bundles the thread entry points on demand for a main thread run from source).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import bundle from './bundle-options.cjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// esbuild is a development dependency. `--or-keep` (npm start, ctl, runner): an installation without
// dev dependencies (`npm ci --omit=dev` on a host that got a built dist/) runs the dist/ it has.
let build;
try {
  ({ build } = await import('esbuild'));
} catch (e) {
  const have = Object.keys(bundle.ENTRIES).every((n) => existsSync(resolve(root, 'dist', `${n}.mjs`)));
  if (process.argv.includes('--or-keep') && have) {
    if (!process.argv.includes('--quiet')) console.log('esbuild is not installed (a dev dependency): running the dist/ already built');
    process.exit(0);
  }
  console.error(`cannot build dist/: esbuild is not installed (${e?.code ?? e}). It is a development dependency: run \`npm ci\` (without --omit=dev), or copy a dist/ built elsewhere.`);
  process.exit(1);
}
const started = performance.now();
const result = await build(bundle.bundleOptions(root, Object.keys(bundle.ENTRIES), 'dist'));
// Each file is replaced atomically (write a temporary, then rename): several `npm start` may run at
// once (parallel conformance runs), and a process must never import a half-written bundle.
mkdirSync(resolve(root, 'dist'), { recursive: true });
for (const f of result.outputFiles) {
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}
if (!process.argv.includes('--quiet')) console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
