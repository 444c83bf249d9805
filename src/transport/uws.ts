import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

const require = createRequire(import.meta.url);

/**
 * Loads uWebSockets.js and proves the native addon is what loaded: the package silently falls back to
 * a slow JavaScript implementation when its binary does not load, and a gate that serves at a tenth of
 * its speed must not start quietly. Throws with the reason.
 */
export function loadUws(): typeof UWS {
  if (process.env.UWS_USE_FALLBACK) throw new Error('UWS_USE_FALLBACK is set: refusing the slow JavaScript fallback of uWebSockets.js');
  const uws = require('uWebSockets.js') as typeof UWS;
  const native = Object.keys(require.cache).some((k) => /uWebSockets\.js[\\/]binaries[\\/].*\.node$/.test(k));
  if (!native) {
    throw new Error(
      `uWebSockets.js loaded its JavaScript fallback, not the native binary (node ${process.versions.node}, ` +
        `ABI ${process.versions.modules}, ${process.platform}-${process.arch}): refusing to serve slowly`,
    );
  }
  return uws;
}
