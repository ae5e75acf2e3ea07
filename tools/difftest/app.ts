/**
 * The differential test's app on our runtime: the same handlers, routes and outputs as
 * tools/difftest/app.py on the real Tornado. Keep the two files in step, handler by handler.
 */
import { jsonEncode, latin1 } from "tornado/escape";
import { Application, HTTPError, RequestHandler } from "tornado/web";

class HelloHandler extends RequestHandler {
  get() {
    this.write("Hello, world");
  }
}

class JSONHandler extends RequestHandler {
  get() {
    this.write({ msg: "hello!", html: "</script><script>alert(1)</script>", "caf\u00e9": "na\u00efve \u2603" });
  }
}

class UnicodeHandler extends RequestHandler {
  get() {
    this.write("caf\u00e9 \u2603 \u65e5\u672c\n");
  }
}

/** Echoes every argument (query and body) and every uploaded file, in a fixed order. */
class ArgsHandler extends RequestHandler {
  private describe() {
    const out: string[] = [];
    const sorted = (o: object) => Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of sorted(this.request.arguments)) out.push(`${name}=${this.getArguments(name).join(",")}`);
    for (const name of sorted(this.request.files)) {
      for (const f of this.request.files[name]!) {
        out.push(`file ${name}: ${f.filename} ${f.contentType} ${f.body.length} bytes ${jsonEncode(latin1(f.body.subarray(0, 20)))}`);
      }
    }
    this.write(out.join("\n") + "\n");
  }
  get() {
    this.describe();
  }
  post() {
    this.describe();
  }
}

class RequiredHandler extends RequestHandler {
  get() {
    this.write("x is " + this.getArgument("x"));
  }
}

class DefaultHandler extends RequestHandler {
  get() {
    this.write("y is " + this.getArgument("y", "missing"));
  }
}

class RedirectHandler extends RequestHandler {
  get() {
    this.redirect("/target");
  }
}

class PermanentRedirectHandler extends RequestHandler {
  get() {
    this.redirect("/", true);
  }
}

class BoomHandler extends RequestHandler {
  get() {
    throw new Error("boom");
  }
}

class ForbiddenHandler extends RequestHandler {
  get() {
    throw new HTTPError(403);
  }
}

class HeaderHandler extends RequestHandler {
  get() {
    this.setHeader("X-Foo", "bar");
    this.setStatus(201);
    this.write("created");
  }
}

class HeadHandler extends RequestHandler {
  get() {
    this.write("with head");
  }
  head() {
    this.write("with head");
  }
}

class CookieHandler extends RequestHandler {
  get() {
    this.setCookie("name", "value");
    this.setCookie("other", "x y", { path: "/sub" });
    this.write("cookies");
  }
}

class MultiHeaderHandler extends RequestHandler {
  get() {
    this.addHeader("X-Multi", "1");
    this.addHeader("X-Multi", "2");
    this.setHeader("X-Gone", "soon");
    this.clearHeader("X-Gone");
    this.write("multi");
  }
}

class FlushHandler extends RequestHandler {
  async get() {
    this.write("alpha ");
    await this.flush();
    this.write("beta");
  }
}

class ListHandler extends RequestHandler {
  get() {
    // Tornado refuses lists (TypeError -> 500); TypeScript would too, so go around the types.
    (this.write as (chunk: unknown) => void)([1, 2]);
  }
}

export function difftestApp(): Application {
  return new Application([
    ["/", HelloHandler],
    ["/json", JSONHandler],
    ["/unicode", UnicodeHandler],
    ["/args", ArgsHandler],
    ["/required", RequiredHandler],
    ["/default", DefaultHandler],
    ["/redirect", RedirectHandler],
    ["/permanent", PermanentRedirectHandler],
    ["/boom", BoomHandler],
    ["/forbidden", ForbiddenHandler],
    ["/header", HeaderHandler],
    ["/head", HeadHandler],
    ["/cookie", CookieHandler],
    ["/multi", MultiHeaderHandler],
    ["/flush", FlushHandler],
    ["/list", ListHandler],
  ]);
}
