import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { stringFlag } from '../args.ts';
import { EXIT_OK, EXIT_REFUSED, UsageError } from '../errors.ts';
import { jsonLine, plural } from '../format.ts';
import { compareWithManifest, ContentDigest, kindOf, MANIFEST_NAME, parseManifest, type Manifest, type ObservedFile } from '../manifest.ts';
import { TarParser, type TarEntrySink } from '../tar.ts';
import type { Command } from './command.ts';
import { sidecarOf } from './archive.ts';

const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** the manifest sits at the archive root or one directory down (`<root>/MANIFEST.json`) */
const MANIFEST_PATH = /^(?:([^/]+)\/)?MANIFEST\.json$/;

interface ArchiveContents {
  files: Map<string, ObservedFile>;
  manifests: Array<{ name: string; text: string }>;
  problems: string[];
}

/** Streams the archive once: measures every file entry and keeps the manifest's text. */
async function readArchive(file: string): Promise<ArchiveContents> {
  const files = new Map<string, ObservedFile>();
  const manifests: ArchiveContents['manifests'] = [];
  const problems: string[] = [];
  const parser = new TarParser((h): TarEntrySink => {
    const ignore: TarEntrySink = { data() {}, end() {} };
    if (h.type === '5') return ignore; // directories carry nothing to verify
    if (h.type !== '0') {
      problems.push(`${h.name}: unsupported tar entry type ${JSON.stringify(h.type)}`);
      return ignore;
    }
    if (MANIFEST_PATH.test(h.name)) {
      const parts: Buffer[] = [];
      let size = 0;
      return {
        data(c) {
          size += c.length;
          if (size <= MAX_MANIFEST_BYTES) parts.push(Buffer.from(c));
        },
        end() {
          if (size > MAX_MANIFEST_BYTES) problems.push(`${h.name}: larger than ${MAX_MANIFEST_BYTES} bytes`);
          else manifests.push({ name: h.name, text: Buffer.concat(parts).toString('utf8') });
        },
      };
    }
    const digest = new ContentDigest(kindOf(h.name) === 'gzip');
    return {
      data: (c) => digest.update(c),
      async end() {
        if (files.has(h.name)) problems.push(`${h.name}: appears twice in the archive`);
        files.set(h.name, { path: h.name, ...(await digest.finish()) });
      },
    };
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) await parser.push(chunk);
    });
    parser.finish();
  } catch (err) {
    problems.push(`the archive cannot be read: ${(err as Error).message}`);
  }
  return { files, manifests, problems };
}

/** Entries under `<root>/` keyed by their path relative to it (as the manifest lists them). */
function underRoot(files: ReadonlyMap<string, ObservedFile>, root: string, problems: string[]): Map<string, ObservedFile> {
  const out = new Map<string, ObservedFile>();
  const prefix = root === '' ? '' : `${root}/`;
  for (const [name, f] of files) {
    if (!name.startsWith(prefix)) {
      problems.push(`${name}: outside the archive's root directory ${JSON.stringify(root)}`);
      continue;
    }
    const rel = name.slice(prefix.length);
    out.set(rel, { ...f, path: rel });
  }
  return out;
}

export const verifyArchive: Command = {
  def: {
    name: 'verify-archive',
    summary: 'check every file of an archive against its MANIFEST.json (sha256, size, lines); exit 1 on any mismatch',
    args: '<file.tar.gz>',
    minArgs: 1,
    maxArgs: 1,
    flags: [{ name: 'manifest', value: 'FILE', help: 'the manifest copy to compare with the one inside (default <file>.manifest.json, if present)' }],
    token: 'none',
    help: [
      'Reads the archive once, recomputes each entry\'s size, SHA-256 and line count, and compares them with',
      'the MANIFEST.json inside; files missing from either side, a corrupt gzip or tar stream, totals that do',
      'not add up, and a manifest copy next to the archive that differs from the one inside all fail.',
    ],
  },
  async run(ctx) {
    const { io, args } = ctx;
    const file = resolve(io.cwd, args.positionals[0]);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`verify-archive: no such file: ${file}`, 'verify-archive');
    const explicit = stringFlag(args, 'manifest');
    const sidecar = explicit !== undefined ? resolve(io.cwd, explicit) : sidecarOf(file);
    if (explicit !== undefined && !existsSync(sidecar)) throw new UsageError(`verify-archive: no such manifest file: ${sidecar}`, 'verify-archive');

    const contents = await readArchive(file);
    const problems = [...contents.problems];
    let manifest: Manifest | null = null;
    if (contents.manifests.length === 0) problems.push(`no ${MANIFEST_NAME} in the archive`);
    else if (contents.manifests.length > 1) problems.push(`${contents.manifests.length} ${MANIFEST_NAME} entries in the archive`);
    else {
      const inner = contents.manifests[0];
      try {
        manifest = parseManifest(inner.text);
      } catch (err) {
        problems.push((err as Error).message);
      }
      if (manifest !== null) {
        const expectedName = manifest.root === '' ? MANIFEST_NAME : `${manifest.root}/${MANIFEST_NAME}`;
        if (inner.name !== expectedName) problems.push(`${inner.name}: the manifest says its root is ${JSON.stringify(manifest.root)}`);
        problems.push(...compareWithManifest(manifest, underRoot(contents.files, manifest.root, problems)));
      }
      if (existsSync(sidecar) && readFileSync(sidecar, 'utf8') !== inner.text) {
        problems.push(`${sidecar} differs from the ${MANIFEST_NAME} inside the archive`);
      }
    }
    const sidecarUsed = existsSync(sidecar) ? sidecar : null;
    const ok = problems.length === 0;
    if (ctx.json) {
      io.out(jsonLine({ ok, archive: file, manifest_file: sidecarUsed, created_at: manifest?.created_at ?? null, totals: manifest?.totals ?? null, problems }));
    } else if (ok) {
      const t = manifest!.totals;
      io.out(`OK ${file}: ${plural(t.files, 'file')}, ${t.bytes} bytes, ${t.lines} lines match ${MANIFEST_NAME} (created ${manifest!.created_at})\n`);
      if (sidecarUsed !== null) io.out(`   ${sidecarUsed} is identical to the manifest inside\n`);
    } else {
      io.out(`FAILED ${file}: ${plural(problems.length, 'problem')}\n`);
      for (const p of problems) io.out(`  - ${p}\n`);
    }
    return ok ? EXIT_OK : EXIT_REFUSED;
  },
};
