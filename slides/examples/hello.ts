import { IOLoop } from "tornado/ioloop";
import { Application, RequestHandler } from "tornado/web";

class MainHandler extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}

const application = new Application([["/", MainHandler]]);

application.listen(8888);
IOLoop.instance().start();
