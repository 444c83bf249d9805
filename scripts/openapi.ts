/**
 * Writes docs/openapi.json and docs/schemas/*.json from the TypeBox schemas in src/schema
 * (`npm run openapi`; `--check` exits 1 when a committed file differs instead of writing).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { journalSchemaTexts } from '../src/schema/journal-records.ts';
import { openApiText } from '../src/schema/openapi.ts';
import { parseFlagsOrExit } from '../src/util/flags.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const version = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version;

/** The generated files, path (relative to the repository) -> text. */
function generatedFiles(): Record<string, string> {
  const out: Record<string, string> = { 'docs/openapi.json': openApiText(version) };
  for (const [name, text] of Object.entries(journalSchemaTexts())) out[`docs/schemas/${name}`] = text;
  return out;
}

const USAGE = `usage: npm run openapi [-- --check]
  --check   exit 1 when a committed file differs from the schemas, instead of writing it`;
const check = parseFlagsOrExit(process.argv.slice(2), { check: { type: 'boolean' } }, USAGE).values.check === true;
let stale = 0;
for (const [rel, text] of Object.entries(generatedFiles())) {
  const file = resolve(root, rel);
  if (check) {
    let cur = '';
    try {
      cur = readFileSync(file, 'utf8');
    } catch {
      /* missing */
    }
    if (cur !== text) {
      stale++;
      console.error(`stale: ${rel}`);
    }
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${rel}`);
  }
}
if (stale > 0) process.exit(1);
