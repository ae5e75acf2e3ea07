/**
 * npm run curl -- -i http://localhost:8888 : the runtime's curl (runtime/curl.ts) as a command,
 * over real sockets. Exits with curl's exit code. Useful where real curl is missing (a
 * WebContainer) and to compare against real curl by eye.
 */
import { curl } from "tornado/curl";

const code = await curl(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
});
// Let stdout drain before exiting with curl's code.
process.stdout.write("", () => process.exit(code));
