/**
 * The bare uWebSockets.js floor: the same transport and routes as the gate (`POST /pretrade/check`,
 * `/ws`), reading the body the same way and parsing the JSON, then answering a fixed decision of the
 * gate's size — no guards, no workers, no journal. Benchmarks report the gate as a ratio of this,
 * measured in the same run. Usage: `tsx bench/floor.ts [port]` (prints `listening <port>`).
 */
import { loadUws } from '../src/transport/uws.ts';
import { parseFlagsOrExit } from '../src/util/flags.ts';

const FIXED =
  '{"allow":true,"max_qty":0.01,"risk_scale":1,"cooldown_ms":0,"reason":"ok","hard_gate":false,' +
  '"quotas":{"trades_pm_left":999,"symbol_exposure_left_usdt":1000000000000.0},"observability":{"gate_state":"PASS",' +
  '"spread_bps":2,"latency_ms":5,"slip_bps_est":1,"a_bps":10,"b_bps":20,"score":1,"mode":"paper","risk":{"cfg":' +
  '{"dd_day_pct":10,"max_concurrent":10,"size_scale":1},"ctx":{"size_scale":1,"base_notional":500,"scaled_notional":500}},' +
  '"trap":null,"sprt":{"decision":null,"llr":null,"n_obs":null},"reasons":[]}}';

export function startFloor(port: number): Promise<number> {
  const uws = loadUws();
  const app = uws.App();
  app.post('/pretrade/check', (res) => {
    let aborted = false;
    let parts: Buffer[] | null = null;
    res.onAborted(() => (aborted = true));
    res.onData((chunk, isLast) => {
      if (!isLast) {
        (parts ??= []).push(Buffer.from(chunk.slice(0)));
        return;
      }
      const text = parts === null ? Buffer.from(chunk).toString('utf8') : Buffer.concat([...parts, Buffer.from(chunk)]).toString('utf8');
      JSON.parse(text);
      if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(FIXED));
    });
  });
  app.ws('/ws', {
    maxPayloadLength: 65536,
    message: (ws, message) => {
      const env = JSON.parse(Buffer.from(message).toString('utf8')) as { id: unknown };
      ws.send(`{"id":${JSON.stringify(env.id)},"ok":true,"body":${FIXED}}`, false);
    },
  });
  return new Promise((resolve, reject) =>
    app.listen('127.0.0.1', port, (sock) => (sock === false ? reject(new Error('listen failed')) : resolve(uws.us_socket_local_port(sock as never)))),
  );
}

const USAGE = 'usage: tsx bench/floor.ts [port]   (default 0: any free port; prints `listening <port>`)';

if (import.meta.url === `file://${process.argv[1]}`) {
  const { positionals } = parseFlagsOrExit(process.argv.slice(2), {}, USAGE, { positionals: true });
  const port = Number(positionals[0] ?? 0);
  if (positionals.length > 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`expected one port number (0-65535), got ${JSON.stringify(positionals.join(' '))}; see --help\n${USAGE}\n`);
    process.exit(2);
  }
  console.log(`listening ${await startFloor(port)}`);
}
