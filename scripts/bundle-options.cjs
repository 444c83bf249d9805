'use strict';
// The esbuild options of the gate's bundles, in ONE place: scripts/build.mjs bundles dist/ with them, and
// src/thread-module.ts bundles the thread entry points on demand when the main thread runs from source
// (`npm run dev`, vitest, tsx scripts), so the threads always run the code the main thread runs.
// CommonJS so that thread-module.ts can load it synchronously (createRequire) before starting a thread.
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

/** Bundle name -> entry point (relative to the repository root). */
const ENTRIES = {
  main: 'src/main.ts',
  worker: 'src/pool/worker.ts',
  'writer-thread': 'src/journal/writer-thread.ts',
  // the operator CLI and the runner: `npm run ctl` / `npm run runner` run these bundles, so an
  // installation without dev dependencies (no tsx, no esbuild) runs every program from dist/
  ctl: 'src/ctl/cli.ts',
  runner: 'src/runner/cli.ts',
};

/** The bundles a thread loads (`new Worker` / piscina): everything but main. */
const THREAD_ENTRIES = ['worker', 'writer-thread'];

/**
 * esbuild options for the named bundles, written (by the caller: `write: false`) as <outdir>/<name>.mjs.
 * Node 20 cannot load .ts in worker threads without a loader, and loading one per thread cost ~1 s of
 * start-up on 2 cores, hence plain JavaScript bundles.
 */
function bundleOptions(root, names, outdir) {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  return {
    absWorkingDir: root,
    entryPoints: Object.fromEntries(names.map((n) => [n, ENTRIES[n]])),
    outdir,
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
  };
}

module.exports = { ENTRIES, THREAD_ENTRIES, bundleOptions };
