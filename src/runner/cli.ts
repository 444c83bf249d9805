/**
 * The WiseScalp runner (docs/runner.md):
 *   npm run runner -- --replay samples/replay-sample.jsonl [--gate ws://127.0.0.1:8037/ws|stub] [--report out.json] [--json]
 * Progress and notices go to stderr; the summary table (or, with --json, the summary JSON) to stdout.
 * Exit codes: 0 ok, 2 a position stayed open after flattening, 3 configuration error, 1 crash.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, loadRunnerConfig, maskSecrets, parseCliArgs, USAGE } from './config/index.ts';
import { runReplay } from './engine/run.ts';
import { formatProgress } from './report/progress.ts';
import { formatSummaryTable } from './report/table.ts';

const err = (line: string) => process.stderr.write(line + '\n');

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const { config, yamlPath } = loadRunnerConfig({ env, yamlPath: args.configPath, cli: args.overrides });
    err(`[runner] config${yamlPath !== null ? ` (${yamlPath})` : ''}: ${JSON.stringify(maskSecrets(config))}`);

    const stop: { reason: string | null } = { reason: null };
    const onSignal = (sig: NodeJS.Signals) => {
      if (stop.reason !== null) {
        err(`[runner] second ${sig}: exiting without a clean shutdown`);
        process.exit(130);
      }
      stop.reason = sig;
      err(`[runner] ${sig}: stopping entries, cancelling, flattening, writing the summary`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const r = await runReplay(config, { env, stop, log: err, onProgress: (p) => err(formatProgress(p)) });
    const where = [`summary JSON: ${r.summaryPath}`, ...(config.report.path !== null ? [`report:       ${config.report.path}`] : []), `runner files: ${r.runnerDir}`];
    if (args.json) {
      process.stdout.write(JSON.stringify(r.summary, null, 2) + '\n');
      for (const w of where) err(`[runner] ${w}`);
    } else process.stdout.write(`${formatSummaryTable(r.summary)}\n\n${where.join('\n')}\n`);
    return r.exitCode;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`[runner] configuration error: ${e.message}`);
      return e.exitCode;
    }
    err(`[runner] fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

// run only when executed directly (tests import main)
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
    // stdout is flushed by then; a stray handle must not keep a finished run alive
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
