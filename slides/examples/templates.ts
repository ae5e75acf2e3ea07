import { IOLoop } from "tornado/ioloop";
import { Application, RequestHandler } from "tornado/web";

class MainHandler extends RequestHandler {
  get() {
    this.render("index.html", { msg: "hello!" });
  }
}

const application = new Application([["/", MainHandler]], {
  templatePath: "templates",
});

application.listen(8888);
IOLoop.instance().start();
