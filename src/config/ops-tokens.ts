import { envString, type Env } from './env.ts';

/** Where the active ops token came from (service.md 1.1). */
export type TokenSource = 'OPS_TOKEN' | 'AURORA_OPS_TOKEN' | 'security.ops_token';

const PLACEHOLDER_TOKENS = new Set(['change-me', 'changeme', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']);
export const MIN_TOKEN_LENGTH = 24;

/** Why a token is unusable, or null when it is fine (service.md 1.1, D-2/D-24). */
export function tokenProblem(token: string): string | null {
  if (PLACEHOLDER_TOKENS.has(token.toLowerCase())) return 'is a known placeholder';
  if (token.length < MIN_TOKEN_LENGTH) return `is shorter than ${MIN_TOKEN_LENGTH} characters`;
  // printable ASCII only: other characters do not survive an HTTP header byte for byte (a lock-out)
  if (/[^\x21-\x7e]/.test(token)) return 'contains whitespace, control or non-ASCII characters';
  return null;
}

/**
 * A token as logs and the journal may show it: `****` + its last 4 characters (OPS.TOKEN_ROTATE
 * `token_mask`, service.md 1.2; the ops CLI's --verbose). Shorter than 8 characters: `****` only, so
 * at most half of a (necessarily invalid) short token is ever shown.
 */
export function maskToken(token: string): string {
  return token.length >= 8 ? `****${token.slice(-4)}` : '****';
}

/**
 * The one active token: OPS_TOKEN, then the alias AURORA_OPS_TOKEN, then security.ops_token (`yamlToken`,
 * already resolved). The first one set decides: if it is unusable, ops stay disabled (no lower-priority
 * token is tried). Warnings for an unusable, missing or aliased token.
 */
export function selectOpsToken(env: Env, yamlToken: string | null, warnings: string[]): { token: string | null; tokenSource: TokenSource | null } {
  const candidates: Array<[TokenSource, string | undefined]> = [
    ['OPS_TOKEN', envString(env, 'OPS_TOKEN')],
    ['AURORA_OPS_TOKEN', envString(env, 'AURORA_OPS_TOKEN')],
    ['security.ops_token', yamlToken?.trim() || undefined],
  ];
  let token: string | null = null;
  let tokenSource: TokenSource | null = null;
  for (const [source, value] of candidates) {
    if (value === undefined) continue;
    const problem = tokenProblem(value);
    if (problem !== null) {
      warnings.push(`ops token from ${source} ${problem}: ops endpoints stay disabled (401) until a usable token is set`);
      break;
    }
    token = value;
    tokenSource = source;
    break;
  }
  if (token === null && candidates.every(([, v]) => v === undefined)) {
    warnings.push('no ops token configured (OPS_TOKEN): ops endpoints answer 401');
  }
  if (tokenSource === 'AURORA_OPS_TOKEN') warnings.push('AURORA_OPS_TOKEN is a deprecated alias: set OPS_TOKEN instead');
  if (envString(env, 'OPS_TOKEN') !== undefined && envString(env, 'AURORA_OPS_TOKEN') !== undefined) {
    warnings.push('both OPS_TOKEN and AURORA_OPS_TOKEN are set: OPS_TOKEN is used, the alias is ignored');
  }
  return { token, tokenSource };
}
