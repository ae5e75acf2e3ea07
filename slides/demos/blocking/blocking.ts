import { AsyncHTTPClient } from "tornado/httpclient";
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
    const wait = this.getArgument("wait", "1");
    if (mode === "blocking") blockingSleep(Number(wait));
    else await sleep(Number(wait));
    this.write(`waited ${wait} s\n`);
  }
}

// Sends n requests at once to /slow/<mode>; one line per answer, times in ms.
class RunHandler extends RequestHandler {
  async get(mode: string) {
    const n = Number(this.getArgument("n", "10"));
    const wait = this.getArgument("wait", "1");
    const http = AsyncHTTPClient.instance();
    const t0 = IOLoop.current().time();
    const ms = () => Math.round((IOLoop.current().time() - t0) * 1000);
    const one = async (i: number) => {
      const start = ms();
      await http.fetch(`http://localhost:8888/slow/${mode}?wait=${wait}`);
      this.write(`request ${i}: ${start} ms -> ${ms()} ms\n`);
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
