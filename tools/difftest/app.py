"""The differential test's reference app, served by the real Tornado (Debian's python3-tornado).

tools/difftest/app.ts is the same app on our runtime; tools/difftest/tornado.test.ts sends both
the same raw requests and compares the raw responses. Listens on an ephemeral port on
127.0.0.1, prints the port on stdout, and exits when stdin closes (so a dying test never
leaves it behind).
"""
import asyncio
import json
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web


class HelloHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


class JSONHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"msg": "hello!", "html": "</script><script>alert(1)</script>", "caf\u00e9": "na\u00efve \u2603"})


class UnicodeHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("caf\u00e9 \u2603 \u65e5\u672c\n")


class ArgsHandler(tornado.web.RequestHandler):
    """Echoes every argument (query and body) and every uploaded file, in a fixed order."""

    def describe(self):
        out = []
        for name in sorted(self.request.arguments):
            out.append("%s=%s" % (name, ",".join(self.get_arguments(name))))
        for name in sorted(self.request.files):
            for f in self.request.files[name]:
                head = json.dumps(f["body"][:20].decode("latin-1"))
                out.append("file %s: %s %s %d bytes %s" % (name, f["filename"], f["content_type"], len(f["body"]), head))
        self.write("\n".join(out) + "\n")

    def get(self):
        self.describe()

    def post(self):
        self.describe()


class RequiredHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("x is " + self.get_argument("x"))


class DefaultHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("y is " + self.get_argument("y", "missing"))


class RedirectHandler(tornado.web.RequestHandler):
    def get(self):
        self.redirect("/target")


class PermanentRedirectHandler(tornado.web.RequestHandler):
    def get(self):
        self.redirect("/", permanent=True)


class BoomHandler(tornado.web.RequestHandler):
    def get(self):
        raise Exception("boom")


class ForbiddenHandler(tornado.web.RequestHandler):
    def get(self):
        raise tornado.web.HTTPError(403)


class HeaderHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("X-Foo", "bar")
        self.set_status(201)
        self.write("created")


class HeadHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("with head")

    def head(self):
        self.write("with head")


class CookieHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_cookie("name", "value")
        self.set_cookie("other", "x y", path="/sub")
        self.write("cookies")


class MultiHeaderHandler(tornado.web.RequestHandler):
    def get(self):
        self.add_header("X-Multi", "1")
        self.add_header("X-Multi", "2")
        self.set_header("X-Gone", "soon")
        self.clear_header("X-Gone")
        self.write("multi")


class FlushHandler(tornado.web.RequestHandler):
    async def get(self):
        self.write("alpha ")
        await self.flush()
        self.write("beta")


class ListHandler(tornado.web.RequestHandler):
    def get(self):
        self.write([1, 2])


async def main():
    logging_off()
    app = tornado.web.Application(
        [
            (r"/", HelloHandler),
            (r"/json", JSONHandler),
            (r"/unicode", UnicodeHandler),
            (r"/args", ArgsHandler),
            (r"/required", RequiredHandler),
            (r"/default", DefaultHandler),
            (r"/redirect", RedirectHandler),
            (r"/permanent", PermanentRedirectHandler),
            (r"/boom", BoomHandler),
            (r"/forbidden", ForbiddenHandler),
            (r"/header", HeaderHandler),
            (r"/head", HeadHandler),
            (r"/cookie", CookieHandler),
            (r"/multi", MultiHeaderHandler),
            (r"/flush", FlushHandler),
            (r"/list", ListHandler),
        ]
    )
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    # Exit when the parent closes our stdin.
    await loop.run_in_executor(None, sys.stdin.read)


def logging_off():
    import logging

    logging.getLogger("tornado").setLevel(logging.CRITICAL)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
