// `npm run verify`: plain JavaScript, so that SIGINT and SIGTERM are caught from node's first
// milliseconds; loading the TypeScript (tsx) takes a few hundred more. Signals caught here are
// handed to the CLI (harness/cli/stop.ts), which still writes the reports of what ran.
// These listeners stay for the whole run and are only redirected: removing one would drop a
// signal libuv has caught but not yet dispatched, and leave a window with no handler at all.
const early = [];
let deliver = (signal) => early.push(signal);
const relay = (signal) => deliver(signal);
process.on('SIGINT', relay);
process.on('SIGTERM', relay);
// From here on a signal is kept; `ps` (and test/cli/signals.test.ts) can see it by the name.
process.title = 'tdx-update-verify';
const { register } = await import('tsx/esm/api');
register();
const { start } = await import('./cli/main.ts');
await start(process.argv.slice(2), early, (handler) => {
  deliver = handler;
});
