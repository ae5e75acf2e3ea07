import { AsyncHTTPClient } from "tornado/httpclient";
import { IOLoop, PeriodicCallback } from "tornado/ioloop";
import { jsonDecode } from "tornado/escape";
import { sleep } from "tornado/gen";
import { Application, RequestHandler } from "tornado/web";
import { WebSocketHandler } from "tornado/websocket";

// The talk's broadcast: every 3 s the loop polls the search service and sends what it found
// to every connected page, which lists it under the time.
const clients = new Set<WebSocketHandler>();
let latest: Record<string, unknown> | null = null;
let broadcasts = 0;

const now = () => new Date().toISOString().slice(11, 19); // UTC, HH:MM:SS

function broadcast(message: Record<string, unknown>) {
  for (const client of clients) void client.writeMessage(message);
}

async function poll() {
  const http = AsyncHTTPClient.instance();
  let json;
  try {
    const response = await http.fetch("http://localhost:8889/search.json?q=tornado");
    json = jsonDecode(response.body) as { results: { text: string }[] };
  } catch (error) {
    console.log("search failed:", String(error));
    return;
  }
  broadcasts += 1;
  // sent: when the server wrote it (ms since 1970), so a page can tell how long it took to arrive.
  latest = { time: now(), broadcast: broadcasts, twits: json.results.map((r) => r.text), sent: Date.now() };
  broadcast(latest);
  console.log(`broadcast ${broadcasts} to ${clients.size} page(s)`);
}

class IndexHandler extends RequestHandler {
  get() {
    this.render("websocket.html");
  }
}

class BroadcastHandler extends WebSocketHandler {
  override open() {
    clients.add(this);
    console.log(`${clients.size} page(s) connected`);
    if (latest) void this.writeMessage(latest); // a new page sees the last results at once
  }
  override onMessage(message: string | Uint8Array) {
    // What one client sends (wscat, say), every page shows.
    broadcast({ time: now(), said: String(message) });
  }
  override onClose() {
    clients.delete(this);
    console.log(`${clients.size} page(s) connected`);
  }
}

// STAND-IN for the 2011 Twitter search API (gone): canned results, a few at a time, 0.2 s late.
const canned = ["tornado 2.1 is out", "async python at bcndevconf", "non-blocking I/O, one thread", "websockets in tornado", "epoll does the waiting"];
let searches = 0;

class SearchHandler extends RequestHandler {
  async get() {
    await sleep(0.2);
    const first = searches++ % canned.length;
    const texts = [0, 1, 2].map((i) => canned[(first + i) % canned.length]);
    this.write({ stand_in: "canned results, not Twitter", results: texts.map((text) => ({ from_user: "stand-in", text })) });
  }
}

new Application([["/search.json", SearchHandler]]).listen(8889);
new Application([
  ["/", IndexHandler],
  ["/websocket", BroadcastHandler],
], { templatePath: "." }).listen(8888);
new PeriodicCallback(poll, 3000).start();
IOLoop.instance().start();
