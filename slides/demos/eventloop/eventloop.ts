import { IOLoop, setTraceHook } from "tornado/ioloop";
import { Application, RequestHandler } from "tornado/web";

// Ask the loop to report what it does: the slide lights up the
// pseudo-code's lines from these "trace" lines of the log.
setTraceHook((event) => console.log(`trace ${event.time.toFixed(4)} ${event.kind}: ${event.detail}`));

const sleep = (seconds: number) => new Promise<void>((done) => IOLoop.current().callLater(seconds, () => done()));

class MainHandler extends RequestHandler {
  async get() {
    await sleep(0.3); // a timer: the loop serves others meanwhile
    this.write("Hello, world");
  }
}

const application = new Application([["/", MainHandler]]);
application.listen(8888);
IOLoop.instance().start();
