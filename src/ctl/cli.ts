import { main } from './main.ts';
import { processIo } from './io.ts';

// exitCode, not process.exit(): stdout is flushed before the process ends
process.exitCode = await main(process.argv.slice(2), process.env, processIo());
