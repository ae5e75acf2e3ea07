"""The websocket bench server on the real Tornado 6.2: same behaviour as ws-runtime.ts.

python3 bench/servers/ws_tornado.py <port>   (0: ephemeral); prints "listening <port>".
"""
import sys

import tornado.ioloop
import tornado.web
import tornado.websocket
from tornado.netutil import bind_sockets
from tornado.httpserver import HTTPServer

clients = set()


class Bench(tornado.websocket.WebSocketHandler):
    def open(self):
        clients.add(self)

    def on_message(self, message):
        if isinstance(message, str) and message.startswith("B"):
            for c in list(clients):
                try:
                    c.write_message(message)
                except tornado.websocket.WebSocketClosedError:
                    pass
        else:
            self.write_message(message, binary=not isinstance(message, str))

    def on_close(self):
        clients.discard(self)


def main():
    app = tornado.web.Application([(r"/ws", Bench)])
    sockets = bind_sockets(int(sys.argv[1]) if len(sys.argv) > 1 else 0, "127.0.0.1", backlog=4096)
    HTTPServer(app).add_sockets(sockets)
    print("listening %d" % sockets[0].getsockname()[1], flush=True)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
