import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { describe, expect, test } from 'vitest';
import {
  checkMode,
  ConfigError,
  DEFAULT_RUNNER_CONFIG,
  loadRunnerConfig,
  maskSecret,
  maskSecrets,
  parseCliArgs,
} from '../../../src/runner/config/index.ts';

const YAML_PATH = resolve(import.meta.dirname, '../../../configs/runner/default.yaml');
const dir = mkdtempSync(join(tmpdir(), 'runner-config-'));

function yamlFile(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}

/** Every leaf key path of a tree (arrays are leaves). */
function leafPaths(t: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(t).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? leafPaths(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(3);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configs/runner/default.yaml', () => {
  const text = readFileSync(YAML_PATH, 'utf8');

  test('is exactly the built-in defaults', () => {
    expect(loadYaml(text)).toEqual(DEFAULT_RUNNER_CONFIG);
    expect(loadRunnerConfig({ yamlPath: YAML_PATH }).config).toEqual(DEFAULT_RUNNER_CONFIG);
  });

  test('documents every key in a comment that names it', () => {
    const comments = text.split('\n').filter((l) => l.trim().startsWith('#'));
    const missing = leafPaths(DEFAULT_RUNNER_CONFIG as unknown as Record<string, unknown>).filter(
      (p) => !comments.some((c) => c.includes(`# ${p}:`)),
    );
    expect(missing).toEqual([]);
  });
});

describe('precedence: flags > RUNNER_* env > YAML > defaults', () => {
  const yaml = yamlFile('gate:\n  timeout_ms: 111\n  max_inflight: 3\nseed: 5\nexits:\n  tp_levels_bps: [10, 30]\n  tp_sizes: [0.5, 0.5]\n');

  test('each source beats the one below it, key by key', () => {
    const env = { RUNNER_CONFIG: yaml, RUNNER__gate__timeout_ms: '222', RUNNER_SEED: '6', RUNNER_GATE_URL: 'ws://10.0.0.1:9000/ws' };
    const { config, yamlPath } = loadRunnerConfig({ env, cli: parseCliArgs(['--seed', '7', '--set', 'gate.max_inflight=4']).overrides });
    expect(yamlPath).toBe(yaml);
    expect(config.gate.timeout_ms).toBe(222); // env over yaml
    expect(config.gate.max_inflight).toBe(4); // flag over yaml
    expect(config.seed).toBe(7); // flag over env over yaml
    expect(config.gate.url).toBe('ws://10.0.0.1:9000/ws'); // env over default
    expect(config.exits.tp_levels_bps).toEqual([10, 30]); // yaml over default; lists replace
    expect(config.signal.min_interval_ms).toBe(250); // untouched default
  });

  test('--config beats RUNNER_CONFIG', () => {
    const other = yamlFile('seed: 99\n');
    expect(loadRunnerConfig({ env: { RUNNER_CONFIG: yaml }, yamlPath: other }).config.seed).toBe(99);
  });

  test('flags: --replay sets the feed and mode replay; --no-progress; --json; --report', () => {
    const a = parseCliArgs(['--replay', 'f.jsonl', '--gate=stub', '--report', 'o.json', '--json', '--no-progress', '--max-events', '100']);
    expect(a.json).toBe(true);
    const c = loadRunnerConfig({ cli: a.overrides }).config;
    expect(c.mode).toBe('replay');
    expect(c.feed).toMatchObject({ path: 'f.jsonl', max_events: 100 });
    expect(c.gate.url).toBe('stub');
    expect(c.report).toEqual({ progress_ms: 0, path: 'o.json' });
  });
});

describe('command line (node:util parseArgs)', () => {
  test('flags apply in order: a later flag for the same key wins; --replay sets mode replay unless a flag before it set one', () => {
    expect(parseCliArgs(['--seed', '7', '--set', 'seed=8']).overrides).toEqual({ seed: 8 });
    expect(parseCliArgs(['--set', 'seed=8', '--seed=7']).overrides).toEqual({ seed: 7 });
    expect(parseCliArgs(['--mode', 'paper', '--replay', 'f.jsonl']).overrides).toEqual({ mode: 'paper', feed: { path: 'f.jsonl' } });
    expect(parseCliArgs(['--replay', 'f.jsonl', '--mode', 'paper']).overrides).toEqual({ mode: 'paper', feed: { path: 'f.jsonl' } });
    expect(parseCliArgs(['--replay', 'f.jsonl']).overrides).toEqual({ mode: 'replay', feed: { path: 'f.jsonl' } });
    expect(parseCliArgs(['--config', 'c.yaml', '-h'])).toMatchObject({ configPath: 'c.yaml', help: true, json: false });
    expect(parseCliArgs(['--help']).help).toBe(true);
    expect(parseCliArgs(['--set', 'gate.max_inflight=4', '--set', 'gate.timeout_ms=200']).overrides).toEqual({ gate: { max_inflight: 4, timeout_ms: 200 } });
  });

  test('unknown flags, missing values, values on switches and stray arguments: exit 3, the flag named, --help pointed at', () => {
    expect(configError(() => parseCliArgs(['--frobnicate'])).message).toBe('unknown option --frobnicate; see --help');
    expect(configError(() => parseCliArgs(['--replay', 'f.jsonl', '--seed'])).message).toBe('--seed needs a value; see --help');
    expect(configError(() => parseCliArgs(['--set'])).message).toBe('--set needs a value; see --help');
    expect(configError(() => parseCliArgs(['--json=yes'])).message).toBe('--json takes no value; see --help');
    expect(configError(() => parseCliArgs(['f.jsonl'])).message).toBe('unexpected argument "f.jsonl"; see --help');
    expect(configError(() => parseCliArgs(['-x'])).message).toBe('unknown option -x; see --help');
    expect(configError(() => parseCliArgs(['--set', 'noequals'])).message).toContain('KEY=VALUE');
    expect(configError(() => parseCliArgs(['--max-events', 'many'])).message).toContain('"feed.max_events"');
  });
});

describe('start-up errors name the key (exit code 3)', () => {
  test('unknown key in YAML, env, --set; unknown flag and env variable', () => {
    expect(configError(() => loadRunnerConfig({ yamlPath: yamlFile('gate:\n  timeuot_ms: 5\n') })).message).toContain('"gate.timeuot_ms"');
    expect(configError(() => loadRunnerConfig({ yamlPath: yamlFile('nope: 1\n') })).message).toContain('"nope"');
    expect(configError(() => loadRunnerConfig({ env: { RUNNER__exits__tp: '1' } })).message).toContain('"exits.tp"');
    expect(configError(() => loadRunnerConfig({ env: { RUNNER_GATEURL: 'x' } })).message).toContain('RUNNER_GATEURL');
    expect(configError(() => parseCliArgs(['--set', 'sizing.limits.max=3'])).message).toContain('"sizing.limits.max"');
    expect(configError(() => parseCliArgs(['--frobnicate'])).message).toContain('--frobnicate');
  });

  test('wrong types and ranges', () => {
    expect(configError(() => loadRunnerConfig({ env: { RUNNER__gate__timeout_ms: 'soon' } })).message).toContain('"gate.timeout_ms"');
    expect(configError(() => loadRunnerConfig({ cli: { gate: { max_inflight: 0 } } })).message).toContain('"gate.max_inflight"');
    expect(configError(() => loadRunnerConfig({ cli: { mode: 'shadow' } })).message).toMatch(/"mode" must be one of replay, paper, testnet, live/);
    expect(configError(() => loadRunnerConfig({ cli: { exits: { tp_sizes: [1] } } })).message).toContain('tp_sizes');
    expect(configError(() => loadRunnerConfig({ cli: { gate: { url: 'http://x' } } })).message).toContain('"gate.url"');
    expect(configError(() => loadRunnerConfig({ yamlPath: yamlFile('- a\n- b\n') })).message).toContain('mapping');
  });

  test('modes other than replay are refused with what is missing', () => {
    const c = (mode: string) => loadRunnerConfig({ cli: { mode, feed: { path: 'x' } } }).config;
    expect(configError(() => checkMode(c('paper'), {})).message).toContain('market-data feed');
    expect(configError(() => checkMode(c('testnet'), {})).message).toContain('ccxt');
    expect(configError(() => checkMode(c('live'), {})).message).toContain('RUNNER_CONFIRM_LIVE=yes');
    expect(configError(() => checkMode(c('live'), { RUNNER_CONFIRM_LIVE: 'yes' })).message).toContain('ccxt');
    expect(configError(() => checkMode(loadRunnerConfig({}).config, {})).message).toContain('--replay');
    expect(() => checkMode(c('replay'), {})).not.toThrow();
  });
});

describe('secrets', () => {
  test('masked to the last 4 characters; env-variable names stay readable', () => {
    expect(maskSecret('abcdefgh1234')).toBe('********1234');
    expect(maskSecret('abc')).toBe('***');
    const c = loadRunnerConfig({ env: { RUNNER_GATE_TOKEN: 'tok-0123456789-wxyz' } }).config;
    const m = maskSecrets(c);
    expect(m.gate.runner_token).toBe('***************wxyz');
    expect(m.exchange.api_key_env).toBe('BINANCE_API_KEY');
    expect(c.gate.runner_token).toBe('tok-0123456789-wxyz'); // the original is untouched
  });
});

describe('YAML config files (the gate reader)', () => {
  test('empty and comment-only files are an empty mapping; unreadable and non-YAML files are runner ConfigErrors', () => {
    expect(loadRunnerConfig({ yamlPath: yamlFile('') }).config).toEqual(DEFAULT_RUNNER_CONFIG);
    expect(loadRunnerConfig({ yamlPath: yamlFile('# nothing here\n\n') }).config).toEqual(DEFAULT_RUNNER_CONFIG);
    expect(loadRunnerConfig({ yamlPath: yamlFile('{}\n') }).config).toEqual(DEFAULT_RUNNER_CONFIG);
    expect(configError(() => loadRunnerConfig({ yamlPath: join(tmpdir(), 'no-such-runner-config.yaml') })).message).toContain('no-such-runner-config.yaml');
    expect(configError(() => loadRunnerConfig({ yamlPath: yamlFile('gate: [\n') })).message).toContain('cannot read configuration');
  });
});
