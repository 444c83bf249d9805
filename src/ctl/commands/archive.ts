import { createReadStream, createWriteStream, existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { intFlag, stringFlag, boolFlag } from '../args.ts';
import { EXIT_OK, EXIT_REFUSED, RefusedError, UsageError } from '../errors.ts';
import { jsonLine, plural } from '../format.ts';
import { buildManifest, ContentDigest, kindOf, linesFor, MANIFEST_NAME, manifestText, type Manifest, type ManifestEntry } from '../manifest.ts';
import { listSession, livenessProblem, type SessionFile } from '../session-files.ts';
import { tarStream, type TarSource } from '../tar.ts';
import type { Command, CommandContext } from './command.ts';

const DEFAULT_MIN_IDLE_SEC = 60;
const FILE_MODE = 0o644;

/** `<out>.manifest.json`: the manifest next to the archive (identical to the one inside it). */
export const sidecarOf = (archive: string): string => `${archive}.manifest.json`;

/** Hashes and counts one file (pass 1). */
async function digestFile(f: SessionFile): Promise<{ entry: ManifestEntry; warning?: string }> {
  const d = new ContentDigest(kindOf(f.rel) === 'gzip');
  for await (const chunk of createReadStream(f.abs)) d.update(chunk as Buffer);
  const facts = await d.finish();
  let kind = kindOf(f.rel);
  const lines = linesFor(kind, facts);
  let warning: string | undefined;
  if (lines.error !== undefined) {
    // a damaged rotated journal is still worth archiving; it just has no line count
    warning = `${f.rel}: ${lines.error}; archived without a line count`;
    kind = 'other';
  }
  return { entry: { path: f.rel, size: facts.size, sha256: facts.sha256, kind, lines: kind === 'other' ? null : lines.lines, mtime_ms: Math.trunc(f.mtimeMs) }, warning };
}

/** A file's content for the tar stream, re-hashed on the way: it must not differ from pass 1. */
function fileSource(root: string, f: SessionFile, e: ManifestEntry): TarSource {
  return {
    name: `${root}/${f.rel}`,
    size: e.size,
    mtimeSec: Math.floor(f.mtimeMs / 1000),
    mode: FILE_MODE,
    async *content() {
      const d = new ContentDigest(false);
      for await (const chunk of createReadStream(f.abs)) {
        d.update(chunk as Buffer);
        yield chunk as Buffer;
      }
      const facts = await d.finish();
      if (facts.sha256 !== e.sha256) throw new Error(`${f.rel} changed while it was being archived (its SHA-256 differs from the first read)`);
    },
  };
}

function defaultOut(dir: string): string {
  return `${dir.replace(/[/\\]+$/, '')}.tar.gz`;
}

function isInside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

export const archive: Command = {
  def: {
    name: 'archive',
    summary: 'pack a session dir into a .tar.gz with a MANIFEST.json (sizes, lines, sha256)',
    args: '<session-dir>',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'out', value: 'FILE', help: 'archive path (default <session-dir>.tar.gz next to the dir); the manifest is also written to FILE.manifest.json' },
      { name: 'dry-run', help: 'list what would go in; write nothing' },
      { name: 'force', help: 'archive even if the session looks live, and overwrite an existing archive' },
      { name: 'min-idle-sec', value: 'N', help: `a session modified within N seconds counts as live (default ${DEFAULT_MIN_IDLE_SEC})` },
    ],
    token: 'none',
    help: [
      'Every regular file under the dir goes in (symlinks are skipped and listed in the manifest), under',
      'a top directory named like the session dir. Stop the gate first: an idle running gate is not detected.',
      'The archive and its manifest are written to temporary names and renamed when complete.',
      'Check an archive later with `verify-archive`.',
    ],
  },
  run: (ctx) => runArchive(ctx),
};

async function runArchive(ctx: CommandContext): Promise<number> {
  const { io, args } = ctx;
  const dir = resolve(io.cwd, args.positionals[0]);
  if (!existsSync(dir)) throw new UsageError(`archive: no such directory: ${dir}`, 'archive');
  if (!statSync(dir).isDirectory()) throw new UsageError(`archive: not a directory: ${dir}`, 'archive');
  const out = resolve(io.cwd, stringFlag(args, 'out') ?? defaultOut(dir));
  const sidecar = sidecarOf(out);
  if (isInside(dir, out)) throw new UsageError(`archive: --out must be outside the session dir (${out})`, 'archive');
  const force = boolFlag(args, 'force');
  const minIdleSec = intFlag(args, 'min-idle-sec', DEFAULT_MIN_IDLE_SEC, 0, 86_400);

  const listing = listSession(dir);
  if (listing.files.some((f) => f.rel === MANIFEST_NAME)) {
    throw new RefusedError(`archive: ${dir} already contains ${MANIFEST_NAME} (an extracted archive?); it would clash with the archive's own manifest`);
  }
  const live = livenessProblem(listing, io.nowMs(), minIdleSec);
  const root = basename(dir) || 'session';

  if (boolFlag(args, 'dry-run')) {
    const totalBytes = listing.files.reduce((s, f) => s + f.size, 0);
    if (ctx.json) {
      io.out(jsonLine({ dry_run: true, dir, out, root, live, files: listing.files.map((f) => ({ path: f.rel, size: f.size, kind: kindOf(f.rel) })), skipped: listing.skipped, total_bytes: totalBytes }));
    } else {
      io.out(`would archive ${dir} into ${out} (+ ${basename(sidecar)}):\n`);
      for (const f of listing.files) io.out(`  ${String(f.size).padStart(12)}  ${kindOf(f.rel).padEnd(5)}  ${root}/${f.rel}\n`);
      io.out(`  ${String(totalBytes).padStart(12)}  total, ${plural(listing.files.length, 'file')} + ${MANIFEST_NAME}\n`);
      for (const s of listing.skipped) io.out(`  skipped ${s.path}: ${s.reason}\n`);
      if (live !== null) io.out(`warning: ${live}; the real run refuses this without --force\n`);
    }
    return live !== null && !force ? EXIT_REFUSED : EXIT_OK;
  }

  if (live !== null && !force) throw new RefusedError(`archive: refusing: ${live}. Stop the gate (or wait), or pass --force.`);
  for (const p of [out, sidecar]) if (existsSync(p) && !force) throw new RefusedError(`archive: ${p} already exists; pass --force to overwrite it`);
  if (!existsSync(dirname(out))) throw new UsageError(`archive: the directory of --out does not exist: ${dirname(out)}`, 'archive');

  const entries: ManifestEntry[] = [];
  for (const f of listing.files) {
    const { entry, warning } = await digestFile(f);
    if (warning !== undefined) io.err(`warning: ${warning}\n`);
    entries.push(entry);
  }
  const manifest: Manifest = buildManifest({ session: root, root, createdMs: io.nowMs(), files: entries, skipped: listing.skipped });
  const text = manifestText(manifest);
  const byPath = new Map(entries.map((e) => [e.path, e]));

  const manifestBytes = Buffer.from(text, 'utf8');
  const sources: TarSource[] = [
    // first, so a reader streaming the archive meets the manifest before the files
    { name: `${root}/${MANIFEST_NAME}`, size: manifestBytes.length, mtimeSec: Math.floor(manifest.created_ms / 1000), mode: FILE_MODE, content: async function* () { yield manifestBytes; } },
    ...listing.files.map((f) => fileSource(root, f, byPath.get(f.rel)!)),
  ];
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await pipeline(Readable.from(tarStream(sources)), createGzip(), createWriteStream(tmp));
    writeFileSync(`${sidecar}.${process.pid}.tmp`, text);
    renameSync(tmp, out);
    renameSync(`${sidecar}.${process.pid}.tmp`, sidecar);
  } catch (err) {
    for (const p of [tmp, `${sidecar}.${process.pid}.tmp`]) if (existsSync(p)) unlinkSync(p);
    throw new RefusedError(`archive: failed, nothing written: ${(err as Error).message}`);
  }
  const archiveBytes = statSync(out).size;
  if (ctx.json) io.out(jsonLine({ archive: out, manifest_file: sidecar, archive_bytes: archiveBytes, manifest }));
  else {
    const t = manifest.totals;
    io.out(`archived ${plural(t.files, 'file')} (${t.bytes} bytes, ${t.lines} lines) from ${dir}\n`);
    io.out(`  archive   ${out} (${archiveBytes} bytes)\n  manifest  ${sidecar}\n`);
    if (listing.skipped.length > 0) io.out(`  skipped   ${listing.skipped.map((s) => s.path).join(', ')}\n`);
  }
  return EXIT_OK;
}
