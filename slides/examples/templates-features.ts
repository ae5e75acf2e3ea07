import { IOLoop } from "tornado/ioloop";
import { Application, RequestHandler, UIModule } from "tornado/web";

class Entry extends UIModule {
  override render(entry: { title: string; body: string }) {
    return this.renderString("entry.html", { entry });
  }
  override embeddedCss() {
    return ".entry { border-left: 4px solid #c33; padding-left: 8px }";
  }
}

class MainHandler extends RequestHandler {
  get() {
    this.render("page.html", {
      title: "templates",
      entries: [
        { title: "herencia", body: "page.html extends base.html" },
        { title: "autoescape", body: "<script>alert('xss')</script>" },
      ],
    });
  }
}

const application = new Application([["/", MainHandler]], {
  templatePath: "templates",
  uiModules: { Entry },
});

application.listen(8888);
IOLoop.instance().start();
