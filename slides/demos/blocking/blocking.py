# Written for Tornado 6 (not the 2011 code): waiting for a slow upstream, two ways.
import time

from tornado import gen, httpclient, ioloop, web
from tornado.escape import json_decode


class SlowHandler(web.RequestHandler):
    async def get(self, mode):
        start = ioloop.IOLoop.current().time()
        wait = float(self.get_argument("wait", "1"))
        if mode == "blocking":
            time.sleep(wait)  # the loop can do nothing else meanwhile
        else:
            await gen.sleep(wait)  # a timer: the loop serves others meanwhile
        self.write({"start": start, "end": ioloop.IOLoop.current().time()})


# Sends n requests at once to /slow/<mode>; a line as each is sent and one per answer (ms since
# the first was sent).
class RunHandler(web.RequestHandler):
    async def get(self, mode):
        n = int(self.get_argument("n", "10"))
        wait = self.get_argument("wait", "1")
        http = httpclient.AsyncHTTPClient()
        t0 = ioloop.IOLoop.current().time()

        def ms(t=None):
            return round(((t or ioloop.IOLoop.current().time()) - t0) * 1000)

        async def one(i):
            sent = ms()
            self.write("request %d: sent %d ms\n" % (i, sent))
            self.flush()
            response = await http.fetch("http://localhost:8888/slow/%s?wait=%s" % (mode, wait))
            served = json_decode(response.body)
            self.write("request %d: sent %d ms, served %d ms -> %d ms, answered %d ms\n"
                       % (i, sent, ms(served["start"]), ms(served["end"]), ms()))
            await self.flush()

        await gen.multi([one(i + 1) for i in range(n)])
        self.write("%d requests, %s: %d ms\n" % (n, mode, ms()))


application = web.Application([
    (r"/slow/(blocking|non-blocking)", SlowHandler),
    (r"/run/(blocking|non-blocking)", RunHandler),
])
application.listen(8888)
ioloop.IOLoop.current().start()
