import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/process.ts';

/** 127.0.0.10 .. 127.0.0.250: source addresses for traffic that fails ops authentication on purpose. */
export const FAILING_ADDRESSES: readonly string[] = Array.from({ length: 241 }, (_, i) => `127.0.0.${10 + i}`);

/**
 * configs/default.yaml with `security.allowlist` widened to `extra` loopback addresses: ops failures
 * are rate-limited per address (10 a minute, D-38), so tests that fail on purpose do it from these,
 * and the state checks from 127.0.0.1 are never limited. Everything else is the embedded default.
 */
export function yamlWithAllowlist(extra: readonly string[]): string {
  const text = readFileSync(join(REPO_ROOT, 'configs', 'default.yaml'), 'utf8');
  const line = "  allowlist: ['127.0.0.1', '::1']";
  if (!text.includes(line)) throw new Error('configs/default.yaml: the allowlist line changed; update test/fuzz/config.ts');
  return text.replace(line, `  allowlist: ['127.0.0.1', '::1', ${extra.map((a) => `'${a}'`).join(', ')}]`);
}
