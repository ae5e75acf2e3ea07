import { IOLoop } from "tornado/ioloop";
import { Condition } from "tornado/locks";
import { Application, RequestHandler } from "tornado/web";

// Tornado's chat demo, long-poll style: each page asks for updates and the request waits on a
// Condition until a message comes; one message wakes every waiting page at once.
interface Message {
  id: string;
  body: string;
}

class MessageBuffer {
  readonly cond = new Condition();
  cache: Message[] = [];
  readonly cacheSize = 200;

  getMessagesSince(cursor: string | null): Message[] {
    const results: Message[] = [];
    for (const message of [...this.cache].reverse()) {
      if (message.id === cursor) break;
      results.push(message);
    }
    return results.reverse();
  }

  addMessage(message: Message) {
    this.cache.push(message);
    if (this.cache.length > this.cacheSize) this.cache = this.cache.slice(-this.cacheSize);
    this.cond.notifyAll();
  }
}

const buffer = new MessageBuffer();
const waiting = new Set<RequestHandler>(); // the pages waiting right now
let lastId = 0;

class MainHandler extends RequestHandler {
  get() {
    this.render("chat.html");
  }
}

class MessageNewHandler extends RequestHandler {
  post() {
    const message = { id: String(++lastId), body: this.getArgument("body") };
    this.write(message);
    buffer.addMessage(message);
  }
}

class MessageUpdatesHandler extends RequestHandler {
  private readonly cancel = new AbortController();

  async post() {
    const cursor = this.getArgument("cursor", null);
    let messages = buffer.getMessagesSince(cursor);
    while (messages.length === 0) {
      waiting.add(this);
      console.log(`${waiting.size} waiting`);
      try {
        await buffer.cond.wait(null, { signal: this.cancel.signal });
      } catch {
        return; // the page went away: nobody to answer
      } finally {
        waiting.delete(this);
      }
      messages = buffer.getMessagesSince(cursor);
    }
    this.write({ messages });
  }

  override onConnectionClose() {
    if (waiting.has(this)) console.log(`a page left: ${waiting.size - 1} waiting`);
    this.cancel.abort();
  }
}

class WaitingHandler extends RequestHandler {
  get() {
    this.write({ waiting: waiting.size });
  }
}

new Application([
  ["/", MainHandler],
  ["/a/message/new", MessageNewHandler],
  ["/a/message/updates", MessageUpdatesHandler],
  ["/a/waiting", WaitingHandler],
], { templatePath: "." }).listen(8888);
IOLoop.instance().start();
