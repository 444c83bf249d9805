import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where a thread entry point (`worker`, `writer-thread`) lives. Threads load plain JavaScript: from the
 * bundle next to this code when running from dist/, else from dist/ of the repository (built by
 * `npm run build`, which `npm start` and `npm test` run first). The TypeScript source is the last resort.
 */
export function threadModuleUrl(name: 'worker' | 'writer-thread', sourceRelative: string, sourceBase: string): URL {
  const here = import.meta.url;
  if (here.endsWith('.mjs')) return new URL(`./${name}.mjs`, here);
  const built = new URL(`../dist/${name}.mjs`, here);
  if (existsSync(fileURLToPath(built))) return built;
  return new URL(sourceRelative, sourceBase);
}
