# Written for Tornado 6 (not the 2011 code).
# A signed cookie: the client can read it, but not forge or change it.
from tornado import ioloop, web
from tornado.log import app_log


class LoginHandler(web.RequestHandler):
    def get(self):
        name = self.get_argument("name")
        self.set_secure_cookie("user", name)
        self.write("logged in as %s\n" % name)


class MainHandler(web.RequestHandler):
    def get(self):
        user = self.get_secure_cookie("user")
        if not user:
            # Tornado refuses a bad signature silently; this program says so in its log.
            if self.get_cookie("user"):
                app_log.warning("cookie user refused: its signature does not match")
            self.set_status(403)
            self.write("who are you? /login?name=...\n")
            return
        self.write("hello %s\n" % user.decode())


application = web.Application(
    [
        (r"/", MainHandler),
        (r"/login", LoginHandler),
    ],
    cookie_secret="a secret only the server knows",
)
application.listen(8888)
ioloop.IOLoop.current().start()
