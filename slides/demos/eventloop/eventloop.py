# Written for Tornado 6 (not the 2011 code). Tornado has no trace hook: on
# asyncio, the closest is debug mode (PYTHONASYNCIODEBUG=1), which logs slow
# callbacks; the deck's runtime adds setTraceHook for this slide.
from tornado import gen, ioloop, web


class MainHandler(web.RequestHandler):
    async def get(self):
        await gen.sleep(0.3)  # a timer: the loop serves others meanwhile
        self.write("Hello, world")


application = web.Application([(r"/", MainHandler)])
application.listen(8888)
ioloop.IOLoop.current().start()
