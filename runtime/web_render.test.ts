/**
 * `render` / `renderString` over template.ts: the talk's template slide byte for byte (from the
 * real file, and from the memory platform's files), the handler namespace, autoescape settings,
 * UI modules and the resources `render()` splices into the page.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setLogSink, type LogRecord } from "./log.js";
import { createMemoryPlatform } from "./platform/memory.js";
import { setPlatform } from "./platform/index.js";
import { DictLoader } from "./template.js";
import { request } from "./testing.js";
import { Application, RequestHandler, UIModule, type Settings } from "./web.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const talkTemplates = path.join(here, "..", "slides", "examples", "templates");

/** A GET as a browser on the talk's port would send it. */
const get = (app: Application, uri: string, headers: Record<string, string> = {}) =>
  request(app, "GET", uri, { headers: { Host: "localhost:8888", ...headers } });

let records: LogRecord[];
let previousSink: ReturnType<typeof setLogSink>;
beforeEach(() => {
  records = [];
  previousSink = setLogSink((r) => records.push(r));
});
afterEach(() => setLogSink(previousSink));

const appError = () => records.find((r) => r.logger === "tornado.application")?.message;

class MainHandler extends RequestHandler {
  get() {
    return this.render("index.html", { msg: "hello!" });
  }
}

describe("the talk's template slide", () => {
  const expected = "<html>\n<h1> hello!</h1>\n</html>\n";

  it("renders slides/examples/templates/index.html to the slide's 32 bytes and Etag", async () => {
    const r = await get(new Application([["/", MainHandler]], { templatePath: talkTemplates }), "/");
    expect(appError()).toBeUndefined();
    expect(r.code).toBe(200);
    expect(r.body).toBe(expected);
    expect(r.headers.get("Content-Length")).toBe("32");
    expect(r.headers.get("Etag")).toBe('"3e7020fdb7b87ef428cbdd140c96217044748c27"');
    expect(r.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
  });

  it("renders from the memory platform's files (the browser), relative templatePath", async () => {
    const restore = setPlatform(
      createMemoryPlatform({ cwd: "/app", files: { "/app/templates/index.html": "<html>\n    <h1> {{ msg }}</h1>\n</html>\n" }, log: () => {} }),
    );
    try {
      const r = await get(new Application([["/", MainHandler]], { templatePath: "templates" }), "/");
      expect(appError()).toBeUndefined();
      expect(r.body).toBe(expected);
    } finally {
      setPlatform(restore);
    }
  });

  it("a missing template is a 500 naming it", async () => {
    const r = await get(new Application([["/", MainHandler]], { templatePath: "/nonexistent-dir" }), "/");
    expect(r.code).toBe(500);
    expect(appError()).toMatch(/index\.html/);
  });
});

describe("render and the template namespace", () => {
  const app = (templates: Record<string, string>, settings: Settings = {}, routes: [string, typeof RequestHandler][] = []) =>
    new Application(routes, { templateLoader: new DictLoader(templates), ...settings });

  it("autoescapes by default; the handler's namespace is there", async () => {
    class H extends RequestHandler {
      override getCurrentUser() {
        return "ann";
      }
      get() {
        return this.render("page.html", { x: "<b>&'" });
      }
    }
    const templates = {
      "page.html": "{{ x }}|{% raw x %}|{{ current_user }}|{{ request.path }}|{{ reverse_url('home') }}|{{ handler.getStatus() }}",
    };
    const a = new Application([["/p", H, {}, "home"]], { templateLoader: new DictLoader(templates) });
    const r = await get(a, "/p");
    expect(appError()).toBeUndefined();
    expect(r.body).toBe("&lt;b&gt;&amp;&#x27;|<b>&'|ann|/p|/p|200");
  });

  it("the autoescape setting reaches the Loader (null turns escaping off)", async () => {
    const restore = setPlatform(createMemoryPlatform({ files: { "/t/a.html": "{{ x }}" }, log: () => {} }));
    try {
      class H extends RequestHandler {
        get() {
          return this.render("a.html", { x: "<i>" });
        }
      }
      const off = await get(new Application([["/", H]], { templatePath: "/t", autoescape: null }), "/");
      expect(off.body).toBe("<i>");
          const on = await get(new Application([["/", H]], { templatePath: "/t" }), "/");
      expect(on.body).toBe("&lt;i&gt;");
    } finally {
      setPlatform(restore);
    }
  });

  it("templates are cached per application; debug re-reads them on every request", async () => {
    const memory = createMemoryPlatform({ files: { "/t/a.html": "one" }, log: () => {} });
    const restore = setPlatform(memory);
    try {
      class H extends RequestHandler {
        get() {
          return this.render("a.html");
        }
      }
      const cached = new Application([["/", H]], { templatePath: "/t" });
      const debug = new Application([["/", H]], { templatePath: "/t", debug: true });
      expect((await get(cached, "/")).body).toBe("one");
      expect((await get(debug, "/")).body).toBe("one");
      memory.writeFile("/t/a.html", "two");
      expect((await get(cached, "/")).body).toBe("one");
      expect((await get(debug, "/")).body).toBe("two");
      cached.templateLoaders.clear();
      expect((await get(cached, "/")).body).toBe("two");
    } finally {
      setPlatform(restore);
    }
  });

  it("renderString returns text without finishing; uiMethods get the handler first", async () => {
    class H extends RequestHandler {
      get() {
        const inner = this.renderString("inner.html", { n: 2 });
        this.write(`[${inner}]`);
      }
    }
    const a = new Application([["/", H]], {
      templateLoader: new DictLoader({ "inner.html": "{{ shout(n) }}" }),
      uiMethods: { shout: (handler: RequestHandler, n: number) => `${handler.request.path}:${"!".repeat(n)}` },
    });
    const r = await get(a, "/");
    expect(appError()).toBeUndefined();
    expect(r.body).toBe("[/:!!]");
  });

  it("render() after finish() is an error", async () => {
    class H extends RequestHandler {
      get() {
        this.finish("x");
        this.render("a.html");
      }
    }
    await get(app({ "a.html": "a" }, {}, [["/", H]]), "/");
    expect(appError()).toContain("Cannot render() after finish()");
  });
});

describe("UI modules", () => {
  class Entry extends UIModule {
    override render(entry: { title: string }) {
      return `<div class="entry">${entry.title}</div>`;
    }
    override javascriptFiles() {
      return ["entry.js", "/abs.js"];
    }
    override embeddedJavascript() {
      return "js_embed()";
    }
    override cssFiles() {
      return "https://cdn.example/b.css";
    }
    override embeddedCss() {
      return ".e{}";
    }
    override htmlHead() {
      return "<meta name=x>";
    }
    override htmlBody() {
      return "<footer/>";
    }
  }

  it("{% module %} renders unescaped; render() splices the modules' resources into the page", async () => {
    let instances = 0;
    class Counted extends UIModule {
      constructor(handler: RequestHandler) {
        super(handler);
        instances++;
      }
      override render(n: number) {
        return `<i>${n}</i>`;
      }
    }
    class H extends RequestHandler {
      get() {
        return this.render("page.html", { entries: [{ title: "one" }, { title: "two" }] });
      }
    }
    const page =
      "<html><head></head><body>{% for e of entries %}{% module Entry(e) %}{% end %}{% module Counted(1) %}{% module Counted(2) %}</body></html>";
    const a = new Application([["/", H]], {
      templateLoader: new DictLoader({ "page.html": page }),
      uiModules: { Entry, Counted },
      staticPath: "/static-root",
    });
    const r = await get(a, "/");
    expect(appError()).toBeUndefined();
    expect(instances).toBe(1);
    expect(r.body).toBe(
      '<html><head><link href="https://cdn.example/b.css" type="text/css" rel="stylesheet"/>\n' +
        '<style type="text/css">\n.e{}\n</style>\n' +
        "<meta name=x>\n" +
        '</head><body><div class="entry">one</div><div class="entry">two</div><i>1</i><i>2</i>' +
        '<script src="/static/entry.js" type="text/javascript"></script><script src="/abs.js" type="text/javascript"></script>\n' +
        '<script type="text/javascript">\n//<![CDATA[\njs_embed()\n//]]>\n</script>\n' +
        // html_body goes before the first </body>, which by then follows the scripts (Tornado's order).
        "<footer/>\n" +
        "</body></html>",
    );
    // The static file does not exist: Tornado logs it and leaves the URL unversioned.
    expect(records.some((x) => x.message.includes("Could not open static file"))).toBe(true);
  });

  it("built-in modules: linkify, xsrf_form_html, Template with set_resources", async () => {
    class H extends RequestHandler {
      get() {
        return this.render("page.html");
      }
    }
    const templates = {
      "page.html":
        "<html><head></head><body>{% module linkify('see http://example.com/') %}|{% module Template('part.html', {who: '<you>'}) %}</body></html>",
      "part.html": "{{ set_resources({embedded_css: 'p{}', javascript_files: '/p.js'}) }}hi {{ who }}",
    };
    const r = await get(new Application([["/", H]], { templateLoader: new DictLoader(templates) }), "/");
    expect(appError()).toBeUndefined();
    expect(r.body).toBe(
      '<html><head><style type="text/css">\np{}\n</style>\n</head><body>see <a href="http://example.com/">http://example.com/</a>|hi &lt;you&gt;' +
        '<script src="/p.js" type="text/javascript"></script>\n</body></html>',
    );
    const xsrf = await get(
      new Application([["/", H]], { templateLoader: new DictLoader({ "page.html": "{% module xsrf_form_html() %}" }) }),
      "/",
    );
    expect(xsrf.body).toMatch(/^<input type="hidden" name="_xsrf" value="2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+"\/>$/);
    expect(xsrf.headers.get("Set-Cookie")).toMatch(/^_xsrf=/);
  });
});
