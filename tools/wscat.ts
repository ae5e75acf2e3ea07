/**
 * npm run wscat -- -c ws://localhost:8888/feed : the runtime's wscat (runtime/wscat.ts) as a
 * command over real sockets, with npm's wscat's flags and output. Lines typed are sent as
 * messages; Ctrl+C or the end of input closes the connection. Exits with wscat's code.
 */
import * as readline from "node:readline";
import { wscat } from "tornado/wscat";

const lines = readline.createInterface({ input: process.stdin, terminal: false });
const stop = new AbortController();
process.on("SIGINT", () => stop.abort());
const code = await wscat(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
  stdin: lines,
  signal: stop.signal,
});
lines.close();
// Let stdout drain before exiting with wscat's code (readline would keep the process alive).
process.stdout.write("", () => process.exit(code));
