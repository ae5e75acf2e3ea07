/**
 * Our runtime serving the talk's real hello example (slides/examples/hello.ts: Application +
 * RequestHandler, Etag computed per response), on the port in argv[2] instead of 8888.
 * Prints "listening <port>" once bound.
 */
import { redirectTalkPort } from "./port.js";

redirectTalkPort(Number(process.argv[2] ?? 0), (listener) => process.stdout.write(`listening ${listener.port}\n`));
await import("../../slides/examples/hello.js");
