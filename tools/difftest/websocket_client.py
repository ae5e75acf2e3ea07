"""Tornado 6.2's own websocket client (websocket_connect) run against a server under test.

Usage: websocket_client.py ws://127.0.0.1:PORT
Runs one conversation with the websocket_app endpoints and prints what it saw as one JSON
object; runtime/websocket_peers.test.ts asserts on it. Fragmented messages go through the
protocol's own _write_frame, the only way Tornado's client sends them.
"""
import asyncio
import hashlib
import json
import sys

from tornado.websocket import websocket_connect


def show(message):
    if message is None:
        return None
    if isinstance(message, bytes):
        return {"binary": message.hex() if len(message) <= 300 else "sha1:" + hashlib.sha1(message).hexdigest(), "length": len(message)}
    return message


async def main(base):
    out = {}
    conn = await websocket_connect(base + "/echo?hello=there", subprotocols=["x", "chat"])
    out["subprotocol"] = conn.selected_subprotocol
    out["hello"] = await conn.read_message()
    received = []
    for message, binary in [("h\u00e9llo \u2603", False), (bytes(range(256)), True), ("", False), (b"", True), ("json", False)]:
        await conn.write_message(message, binary=binary)
        received.append(show(await conn.read_message()))
    big = bytes(i % 251 for i in range(1024 * 1024))
    await conn.write_message(big, binary=True)
    received.append(show(await conn.read_message()))
    out["big_sha1"] = hashlib.sha1(big).hexdigest()
    # A fragmented text message with a ping between its fragments.
    conn.protocol._write_frame(False, 0x1, "frag".encode())
    conn.protocol._write_frame(True, 0x9, b"between")
    conn.protocol._write_frame(False, 0x0, "ment".encode())
    conn.protocol._write_frame(True, 0x0, "ed \u00e9".encode())
    received.append(show(await conn.read_message()))
    received.append(show(await conn.read_message()))
    conn.ping(b"abc")
    received.append(show(await conn.read_message()))
    await conn.write_message("ping:xyz")
    received.append(show(await conn.read_message()))
    out["received"] = received
    await conn.write_message("close:4001:bye now")
    out["after_close"] = show(await conn.read_message())
    out["close"] = [conn.close_code, conn.close_reason]

    conn = await websocket_connect(base + "/echo")
    out["no_subprotocol"] = conn.selected_subprotocol
    conn.close(4002, "client bye")
    out["client_close_read"] = show(await conn.read_message())
    await asyncio.sleep(0.1)
    conn = await websocket_connect(base + "/echo")
    await conn.write_message("lastclose")
    out["lastclose"] = await conn.read_message()
    conn.close()

    conn = await websocket_connect(base + "/path/named")
    out["path"] = await conn.read_message()
    conn.close()

    conn = await websocket_connect(base + "/slow")
    for m in ["first", "second", "third"]:
        conn.write_message(m)
    out["slow"] = [await conn.read_message() for _ in range(3)]
    conn.close()

    conn = await websocket_connect(base + "/deflate", compression_options={})
    out["deflate_extensions"] = conn.headers.get("Sec-WebSocket-Extensions")
    text = "compress me " * 1000
    await conn.write_message(text)
    out["deflate_echo_ok"] = (await conn.read_message()) == text
    out["deflate_wire_bytes_in"] = conn.protocol._wire_bytes_in
    conn.close()

    try:
        from tornado.httpclient import HTTPRequest
        await websocket_connect(HTTPRequest(base + "/origin", headers={"Origin": "http://evil.example"}))
        out["foreign_origin"] = "accepted"
    except Exception as e:
        out["foreign_origin"] = str(e)
    print(json.dumps(out))


asyncio.run(main(sys.argv[1]))
