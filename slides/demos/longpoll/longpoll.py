# Written for Tornado 6 (not the 2011 code): Tornado's chat demo, long-poll style.
import asyncio
import os

from tornado import ioloop, locks, web

# Each page asks for updates and the request waits on a Condition until a message comes; one
# message wakes every waiting page at once.


class MessageBuffer:
    def __init__(self):
        self.cond = locks.Condition()
        self.cache = []
        self.cache_size = 200

    def get_messages_since(self, cursor):
        results = []
        for message in reversed(self.cache):
            if message["id"] == cursor:
                break
            results.append(message)
        results.reverse()
        return results

    def add_message(self, message):
        self.cache.append(message)
        if len(self.cache) > self.cache_size:
            self.cache = self.cache[-self.cache_size:]
        self.cond.notify_all()


buffer = MessageBuffer()
waiting = set()  # the pages waiting right now
last_id = 0


class MainHandler(web.RequestHandler):
    def get(self):
        self.render("chat.html")


class MessageNewHandler(web.RequestHandler):
    def post(self):
        global last_id
        last_id += 1
        message = {"id": str(last_id), "body": self.get_argument("body")}
        self.write(message)
        buffer.add_message(message)


class MessageUpdatesHandler(web.RequestHandler):
    wait_future = None

    async def post(self):
        cursor = self.get_argument("cursor", None)
        messages = buffer.get_messages_since(cursor)
        while not messages:
            waiting.add(self)
            print("%d waiting" % len(waiting), flush=True)
            self.wait_future = buffer.cond.wait()
            try:
                await self.wait_future
            except asyncio.CancelledError:
                return  # the page went away: nobody to answer
            finally:
                waiting.discard(self)
            messages = buffer.get_messages_since(cursor)
        self.write({"messages": messages})

    def on_connection_close(self):
        if self in waiting:
            print("a page left: %d waiting" % (len(waiting) - 1), flush=True)
        if self.wait_future:
            self.wait_future.cancel()


class WaitingHandler(web.RequestHandler):
    def get(self):
        self.write({"waiting": len(waiting)})


web.Application([
    (r"/", MainHandler),
    (r"/a/message/new", MessageNewHandler),
    (r"/a/message/updates", MessageUpdatesHandler),
    (r"/a/waiting", WaitingHandler),
], template_path=os.path.dirname(os.path.abspath(__file__))).listen(8888)
ioloop.IOLoop.current().start()
