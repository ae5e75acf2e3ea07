import { AsyncHTTPClient } from "tornado/httpclient";
import { jsonDecode } from "tornado/escape";
import { IOLoop } from "tornado/ioloop";
import { Application, RequestHandler } from "tornado/web";

// Waiting for a slow upstream, two ways.
function blockingSleep(seconds: number) {
  // Like Python's time.sleep: the loop can do nothing else meanwhile.
  const end = IOLoop.current().time() + seconds;
  while (IOLoop.current().time() < end) {}
}

function sleep(seconds: number) {
  // Like Tornado's gen.sleep: a timer; the loop serves others meanwhile.
  return new Promise<void>((done) => IOLoop.current().callLater(seconds, () => done()));
}

class SlowHandler extends RequestHandler {
  async get(mode: string) {
    const start = IOLoop.current().time();
    const wait = Number(this.getArgument("wait", "1"));
    if (mode === "blocking") blockingSleep(wait);
    else await sleep(wait);
    this.write({ start, end: IOLoop.current().time() });
  }
}

// Sends n requests at once to /slow/<mode>; a line as each is sent and one per answer (ms since
// the first was sent).
class RunHandler extends RequestHandler {
  async get(mode: string) {
    const n = Number(this.getArgument("n", "10"));
    const wait = this.getArgument("wait", "1");
    const http = AsyncHTTPClient.instance();
    const t0 = IOLoop.current().time();
    const ms = (t = IOLoop.current().time()) => Math.round((t - t0) * 1000);
    const one = async (i: number) => {
      const sent = ms();
      this.write(`request ${i}: sent ${sent} ms\n`);
      void this.flush();
      const response = await http.fetch(`http://localhost:8888/slow/${mode}?wait=${wait}`);
      const served = jsonDecode(response.body) as { start: number; end: number };
      this.write(`request ${i}: sent ${sent} ms, served ${ms(served.start)} ms -> ${ms(served.end)} ms, answered ${ms()} ms\n`);
      await this.flush();
    };
    await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
    this.write(`${n} requests, ${mode}: ${ms()} ms\n`);
  }
}

const application = new Application([
  ["/slow/(blocking|non-blocking)", SlowHandler],
  ["/run/(blocking|non-blocking)", RunHandler],
]);
application.listen(8888);
IOLoop.instance().start();
