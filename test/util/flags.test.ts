import { describe, expect, it } from 'vitest';
import { FlagError, parseFlags } from '../../src/util/flags.ts';

/** The one command-line parser of the project's CLIs (node:util parseArgs underneath). */

const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

const error = (f: () => unknown): FlagError => {
  try {
    f();
  } catch (e) {
    if (e instanceof FlagError) return e;
    throw e;
  }
  throw new Error('no FlagError');
};

describe('parseFlags', () => {
  it('--name value, --name=value, -h, switches; the last occurrence wins; repeatable flags collect in order', () => {
    const p = parseFlags(['--url', 'a', '--json', '--set', 'x=1', '--url=b', '--set=y=2', '-h'], OPTIONS);
    expect(p.values).toEqual({ url: 'b', json: true, set: ['x=1', 'y=2'], help: true });
    expect(p.given.map((g) => `${g.rawName}:${g.value ?? ''}`)).toEqual(['--url:a', '--json:', '--set:x=1', '--url:b', '--set:y=2', '-h:']);
    expect(p.positionals).toEqual([]);
  });

  it('a value may start with a dash (strict parseArgs refuses "--url -x" as ambiguous)', () => {
    expect(parseFlags(['--url', '-abc'], OPTIONS).values.url).toBe('-abc');
    expect(parseFlags(['--url', '--json'], OPTIONS).values).toEqual({ url: '--json' });
  });

  it('positionals when allowed, -- ends the flags, negative numbers as positionals on request', () => {
    expect(parseFlags(['cmd', '--json', 'x', '--', '--url', '-h'], OPTIONS, { positionals: true })).toMatchObject({
      positionals: ['cmd', 'x', '--url', '-h'],
      values: { json: true },
    });
    expect(parseFlags(['cooloff', '-5', '-0.5', '-55h'], OPTIONS, { positionals: true, negativeNumbers: true })).toMatchObject({
      positionals: ['cooloff', '-5', '-0.5', '-55h'],
      values: {},
    });
    expect(error(() => parseFlags(['cooloff', '-5'], OPTIONS, { positionals: true }))).toMatchObject({ kind: 'unknown-option', flag: '-5' });
  });

  it('errors name the flag: unknown option, missing value, value on a switch, unexpected argument', () => {
    expect(error(() => parseFlags(['--bogus'], OPTIONS))).toMatchObject({ kind: 'unknown-option', flag: '--bogus', message: 'unknown option --bogus' });
    expect(error(() => parseFlags(['--bogus=1'], OPTIONS))).toMatchObject({ flag: '--bogus', message: 'unknown option --bogus' });
    expect(error(() => parseFlags(['-x'], OPTIONS))).toMatchObject({ message: 'unknown option -x' });
    expect(error(() => parseFlags(['-hx'], OPTIONS))).toMatchObject({ message: 'unknown option -x' });
    expect(error(() => parseFlags(['--json', '--url'], OPTIONS))).toMatchObject({ kind: 'missing-value', flag: '--url', message: '--url needs a value' });
    expect(error(() => parseFlags(['--json=yes'], OPTIONS))).toMatchObject({ kind: 'unexpected-value', flag: '--json', message: '--json takes no value' });
    expect(error(() => parseFlags(['stray'], OPTIONS))).toMatchObject({ kind: 'unexpected-argument', flag: 'stray', message: 'unexpected argument "stray"' });
    // names of Object.prototype are not options
    expect(error(() => parseFlags(['--constructor'], OPTIONS))).toMatchObject({ kind: 'unknown-option' });
    expect(error(() => parseFlags(['--__proto__', 'x'], OPTIONS))).toMatchObject({ kind: 'unknown-option' });
  });
});
