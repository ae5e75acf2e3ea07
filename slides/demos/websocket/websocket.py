# Written for Tornado 6 (not the 2011 code): the talk's websocket broadcast.
import os
import time

from tornado import gen, httpclient, ioloop, web, websocket
from tornado.escape import json_decode

# The talk's broadcast: every 3 s the loop polls the search service and sends what it found
# to every connected page, which lists it under the time.
clients = set()
latest = None
broadcasts = 0


def now():
    return time.strftime("%H:%M:%S", time.gmtime())  # UTC, HH:MM:SS


def broadcast(message):
    for client in clients:
        client.write_message(message)


async def poll():
    global latest, broadcasts
    http = httpclient.AsyncHTTPClient()
    try:
        response = await http.fetch("http://localhost:8889/search.json?q=tornado")
        json = json_decode(response.body)
    except Exception as error:
        print("search failed:", error, flush=True)
        return
    broadcasts += 1
    # sent: when the server wrote it (ms since 1970), so a page can tell how long it took to arrive.
    latest = {"time": now(), "broadcast": broadcasts, "twits": [r["text"] for r in json["results"]], "sent": int(time.time() * 1000)}
    broadcast(latest)
    print("broadcast %d to %d page(s)" % (broadcasts, len(clients)), flush=True)


class IndexHandler(web.RequestHandler):
    def get(self):
        self.render("websocket.html")


class BroadcastHandler(websocket.WebSocketHandler):
    def open(self):
        clients.add(self)
        print("%d page(s) connected" % len(clients), flush=True)
        if latest:
            self.write_message(latest)  # a new page sees the last results at once

    def on_message(self, message):
        # What one client sends (wscat, say), every page shows.
        broadcast({"time": now(), "said": message})

    def on_close(self):
        clients.discard(self)
        print("%d page(s) connected" % len(clients), flush=True)


# STAND-IN for the 2011 Twitter search API (gone): canned results, a few at a time, 0.2 s late.
canned = ["tornado 2.1 is out", "async python at bcndevconf", "non-blocking I/O, one thread", "websockets in tornado", "epoll does the waiting"]
searches = 0


class SearchHandler(web.RequestHandler):
    async def get(self):
        global searches
        await gen.sleep(0.2)
        first = searches % len(canned)
        searches += 1
        texts = [canned[(first + i) % len(canned)] for i in range(3)]
        self.write({"stand_in": "canned results, not Twitter", "results": [{"from_user": "stand-in", "text": text} for text in texts]})


web.Application([(r"/search.json", SearchHandler)]).listen(8889)
web.Application([
    (r"/", IndexHandler),
    (r"/websocket", BroadcastHandler),
], template_path=os.path.dirname(os.path.abspath(__file__))).listen(8888)
ioloop.PeriodicCallback(poll, 3000).start()
ioloop.IOLoop.current().start()
