"""Run a demo's Python twin with its fixed ports (8888, 8889...) moved to free ones.

    python3 port_map.py <program.py>

The program runs unchanged: Tornado's listen() binds port 0 for each port it asks for, and
connections the program makes to one of those ports (AsyncHTTPClient to the stand-in) go to
the port actually bound. Each mapping is printed to stderr as "port 8888 -> 41234".
"""
import runpy
import sys

import tornado.netutil
import tornado.tcpclient
import tornado.tcpserver

mapped = {}
_bind_sockets = tornado.netutil.bind_sockets


def bind_sockets(port, address=None, *args, **kwargs):
    sockets = _bind_sockets(0, "127.0.0.1", *args, **kwargs)
    mapped[port] = sockets[0].getsockname()[1]
    sys.stderr.write("port %d -> %d\n" % (port, mapped[port]))
    sys.stderr.flush()
    return sockets


tornado.tcpserver.bind_sockets = bind_sockets
_connect = tornado.tcpclient.TCPClient.connect


def connect(self, host, port, *args, **kwargs):
    return _connect(self, host, mapped.get(port, port), *args, **kwargs)


tornado.tcpclient.TCPClient.connect = connect
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
