# Written for Tornado 6 (not the 2011 code): waiting for a slow upstream, two ways.
import time

from tornado import gen, httpclient, ioloop, web


class SlowHandler(web.RequestHandler):
    async def get(self, mode):
        wait = self.get_argument("wait", "1")
        if mode == "blocking":
            time.sleep(float(wait))  # the loop can do nothing else meanwhile
        else:
            await gen.sleep(float(wait))  # a timer: the loop serves others meanwhile
        self.write("waited %s s\n" % wait)


# Sends n requests at once to /slow/<mode>; one line per answer, times in ms.
class RunHandler(web.RequestHandler):
    async def get(self, mode):
        n = int(self.get_argument("n", "10"))
        wait = self.get_argument("wait", "1")
        http = httpclient.AsyncHTTPClient()
        t0 = ioloop.IOLoop.current().time()

        def ms():
            return round((ioloop.IOLoop.current().time() - t0) * 1000)

        async def one(i):
            start = ms()
            await http.fetch("http://localhost:8888/slow/%s?wait=%s" % (mode, wait))
            self.write("request %d: %d ms -> %d ms\n" % (i, start, ms()))
            await self.flush()

        await gen.multi([one(i + 1) for i in range(n)])
        self.write("%d requests, %s: %d ms\n" % (n, mode, ms()))


application = web.Application([
    (r"/slow/(blocking|non-blocking)", SlowHandler),
    (r"/run/(blocking|non-blocking)", RunHandler),
])
application.listen(8888)
ioloop.IOLoop.current().start()
