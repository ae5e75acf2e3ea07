import { IOLoop } from "tornado/ioloop";
import { Application, RequestHandler } from "tornado/web";

class MainHandler extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}

class JSONHandler extends RequestHandler {
  get() {
    this.write({ msg: "hello!" });
  }
}

const application = new Application([
  ["/", MainHandler],
  ["/json", JSONHandler],
]);

application.listen(8888);
IOLoop.instance().start();
