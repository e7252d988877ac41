// `npm run verify`: plain JavaScript, so that SIGINT and SIGTERM are caught from node's first
// milliseconds; loading the TypeScript (tsx) takes a few hundred more. Signals caught here are
// handed to the CLI (harness/cli/stop.ts), which still writes the reports of what ran.
const early = [];
const keep = (signal) => early.push(signal);
process.on('SIGINT', keep);
process.on('SIGTERM', keep);
// From here on a signal is kept; `ps` (and test/cli/signals.test.ts) can see it by the name.
process.title = 'tdx-update-verify';
const { register } = await import('tsx/esm/api');
register();
const { start } = await import('./cli/main.ts');
process.off('SIGINT', keep);
process.off('SIGTERM', keep);
await start(process.argv.slice(2), early);
