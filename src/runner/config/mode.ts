import type { RunnerConfig } from './schema.ts';
import { ConfigError } from './tree.ts';

/**
 * Start-up checks of the mode (runner.md §3.2 Ours). Only `replay` (recorded/synthetic feed + paper
 * exchange + virtual clock) is implemented end to end; the other modes need adapters this build does
 * not have, and are refused with a message naming what is missing instead of half-working.
 */
export function checkMode(c: RunnerConfig, env: Readonly<Record<string, string | undefined>>): void {
  switch (c.mode) {
    case 'replay':
      if (c.feed.path === null) throw new ConfigError('mode replay needs a feed file: --replay FILE, RUNNER_FEED or feed.path');
      return;
    case 'paper':
      throw new ConfigError(
        'mode paper needs a live public market-data feed adapter (a ccxt/websocket feed into the FeatureEngine), which this build does not include; use --mode replay with a recorded or synthetic feed',
      );
    case 'testnet':
      throw new ConfigError(
        `mode testnet needs the ccxt exchange adapter (optional dependency "ccxt", CcxtExchange) and sandbox keys in ${c.exchange.api_key_env}/${c.exchange.api_secret_env}; this build has only the paper exchange: use --mode replay`,
      );
    case 'live':
      if (env.RUNNER_CONFIRM_LIVE !== 'yes') throw new ConfigError('mode live requires RUNNER_CONFIRM_LIVE=yes');
      throw new ConfigError(
        `mode live needs the ccxt exchange adapter (optional dependency "ccxt", CcxtExchange) and keys in ${c.exchange.api_key_env}/${c.exchange.api_secret_env}; this build has only the paper exchange: use --mode replay`,
      );
  }
}
