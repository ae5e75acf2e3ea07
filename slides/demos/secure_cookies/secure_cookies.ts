import { IOLoop } from "tornado/ioloop";
import { appLog } from "tornado/log";
import { Application, RequestHandler } from "tornado/web";

// A signed cookie: the client can read it, but not forge or change it.
class LoginHandler extends RequestHandler {
  get() {
    const name = this.getArgument("name");
    this.setSecureCookie("user", name);
    this.write(`logged in as ${name}\n`);
  }
}

class MainHandler extends RequestHandler {
  get() {
    const user = this.getSecureCookie("user");
    if (!user) {
      // Tornado refuses a bad signature silently; this program says so in its log.
      if (this.getCookie("user")) appLog.warning("web", "cookie user refused: its signature does not match");
      this.setStatus(403);
      this.write("who are you? /login?name=...\n");
      return;
    }
    this.write(`hello ${new TextDecoder().decode(user)}\n`);
  }
}

const application = new Application(
  [
    ["/", MainHandler],
    ["/login", LoginHandler],
  ],
  { cookieSecret: "a secret only the server knows" },
);
application.listen(8888);
IOLoop.instance().start();
