import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.ts';
import { loadConfig } from '../../src/config/load.ts';

/**
 * Issue 12 item 4: a bare AURORA_CONFIG name that names no file (a typo like `prd`) used to start the gate
 * on the embedded defaults with only a warning — a production gate silently running testnet-sized risk.
 * It is fatal now; `default` names the embedded defaults explicitly; a missing *path* keeps the reference's
 * fallback (conformance vector input-config-missing-file-falls-back).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, the configuration loaded');
}

describe('AURORA_CONFIG bare names', () => {
  it('an unknown name (typo `prd`) is fatal: the message names the value, the known names and that a YAML path is accepted', () => {
    const msg = configError(() => loadConfig({ AURORA_CONFIG: 'prd' }, ROOT)).message;
    expect(msg).toContain('AURORA_CONFIG="prd"');
    expect(msg).toMatch(/known names: default, desk, prod, testnet\b/);
    expect(msg).toMatch(/path to a YAML file/);
  });

  it('also through AURORA_CONFIG_NAME, from another working directory, and whatever AURORA_CONFIG_STRICT says', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'aurora-cfg-name-'));
    expect(configError(() => loadConfig({ AURORA_CONFIG_NAME: 'testnte' }, elsewhere)).message).toMatch(/AURORA_CONFIG_NAME="testnte".*known names: default, desk, prod, testnet/);
    expect(() => loadConfig({ AURORA_CONFIG: 'prd', AURORA_CONFIG_STRICT: '0' }, ROOT)).toThrow(ConfigError);
    // a name without an extension is a name, even with a slash in it
    expect(() => loadConfig({ AURORA_CONFIG: 'configs/prod' }, ROOT)).toThrow(/configs\/prod.*not found; known names/);
  });

  it('the known names include the working directory\'s own configs', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'aurora-cfg-name-'));
    mkdirSync(join(cwd, 'configs', 'aurora'), { recursive: true });
    writeFileSync(join(cwd, 'configs', 'aurora', 'staging.yaml'), 'risk:\n  size_scale: 0.5\n');
    expect(configError(() => loadConfig({ AURORA_CONFIG: 'stagin' }, cwd)).message).toMatch(/known names: default, desk, prod, staging, testnet\b/);
    expect(loadConfig({ AURORA_CONFIG: 'staging' }, cwd).core.risk.sizeScale).toBe(0.5);
  });

  it('`default` keeps the embedded defaults explicitly, without a warning', () => {
    const embedded = loadConfig({}, ROOT);
    const cfg = loadConfig({ AURORA_CONFIG: 'default' }, ROOT);
    expect(cfg.source).toBe('default(embedded)');
    expect(cfg.core).toStrictEqual(embedded.core);
    expect(cfg.warnings).toEqual(embedded.warnings);
    expect(loadConfig({ AURORA_CONFIG_NAME: 'default', AURORA_CONFIG_STRICT: '1' }, mkdtempSync(join(tmpdir(), 'aurora-cfg-name-'))).source).toBe('default(embedded)');
  });

  it('known names still load; a missing YAML *path* still falls back with a warning (reference parity)', () => {
    expect(loadConfig({ AURORA_CONFIG: 'prod' }, ROOT).source).toBe(join(ROOT, 'configs', 'prod.yaml'));
    const cfg = loadConfig({ AURORA_CONFIG: '/nonexistent/dir/aurora-config.yaml' }, ROOT);
    expect(cfg.source).toBe('default(embedded)');
    expect(cfg.warnings[0]).toMatch(/not found: using the embedded defaults/);
  });
});
