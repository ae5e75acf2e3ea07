"""The websocket reference app, served by the real Tornado (Debian's python3-tornado 6.2).

tools/difftest/websocket_app.ts is the same app on our runtime. The websocket tests talk to both:
real peers (runtime/websocket_peers.test.ts) and raw-frame conversations compared byte for byte
(runtime/websocket_tornado.test.ts). Listens on an ephemeral port on 127.0.0.1, prints the port,
and exits when stdin closes.

Messages to /echo steer the handler: "close:CODE:REASON" closes (empty parts mean none),
"ping:DATA" pings the client, "json" answers a JSON object, "lastclose" tells how the previous
connection was closed; anything else is echoed (binary as binary). Pings and pongs from the
client are reported as text messages.
"""
import asyncio
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket

last_close = {"code": None, "reason": None}


class EchoHandler(tornado.websocket.WebSocketHandler):
    def select_subprotocol(self, subprotocols):
        return "chat" if "chat" in subprotocols else None

    def open(self, *args):
        hello = self.get_argument("hello", None)
        if hello is not None:
            self.write_message("hello " + hello)
        cookie = self.get_cookie("who")
        if cookie is not None:
            self.write_message("cookie " + cookie)

    def on_message(self, message):
        if isinstance(message, str) and message.startswith("close:"):
            _, code, reason = message.split(":", 2)
            self.close(int(code) if code else None, reason if reason else None)
        elif isinstance(message, str) and message.startswith("ping:"):
            self.ping(message[5:].encode())
        elif message == "json":
            self.write_message({"a": [1, "caf\u00e9", None, True], "b": "</script>", "c": 1.5})
        elif message == "lastclose":
            self.write_message("%s %s" % (last_close["code"], last_close["reason"]))
        else:
            self.write_message(message, binary=isinstance(message, bytes))

    def on_ping(self, data):
        self.write_message("ping " + data.decode("latin-1"))

    def on_pong(self, data):
        self.write_message("pong " + data.decode("latin-1"))

    def on_close(self):
        last_close["code"] = self.close_code
        last_close["reason"] = self.close_reason


class PathHandler(EchoHandler):
    def open(self, name):
        self.write_message("path " + name)


class SlowHandler(tornado.websocket.WebSocketHandler):
    """An async on_message: replies come back in the order the messages were sent."""

    async def on_message(self, message):
        await asyncio.sleep(0.05 if message == "first" else 0)
        self.write_message("done " + message)


class DeflateHandler(EchoHandler):
    def get_compression_options(self):
        return {}


class OriginHandler(EchoHandler):
    def check_origin(self, origin):
        return origin == "http://allowed.example"


async def main():
    max_size = int(sys.argv[1]) if len(sys.argv) > 1 else 10 * 1024 * 1024
    app = tornado.web.Application(
        [
            (r"/echo", EchoHandler),
            (r"/path/(\w+)", PathHandler),
            (r"/slow", SlowHandler),
            (r"/deflate", DeflateHandler),
            (r"/origin", OriginHandler),
        ],
        websocket_max_message_size=max_size,
    )
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    import logging

    logging.getLogger("tornado").setLevel(logging.CRITICAL)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
