import { AsyncHTTPClient } from "tornado/httpclient";
import { IOLoop } from "tornado/ioloop";
import { jsonDecode } from "tornado/escape";
import { Application, HTTPError, RequestHandler } from "tornado/web";

// The talk's APIHandler: while it waits for the search service, the loop serves others.
class APIHandler extends RequestHandler {
  async get() {
    const http = AsyncHTTPClient.instance();
    console.log("GET /api: fetching the search service; the loop serves others meanwhile");
    let response;
    try {
      response = await http.fetch("http://localhost:8889/search.json?q=tornado");
    } catch {
      throw new HTTPError(500);
    }
    const json = jsonDecode(response.body) as { results: { text: string }[] };
    this.write({ twits: json.results.map((result) => result.text) });
  }
}

// STAND-IN for the 2011 Twitter search API (gone): canned results, answered after 0.5 s.
const sleep = (seconds: number) => new Promise<void>((done) => IOLoop.current().callLater(seconds, () => done()));

class SearchHandler extends RequestHandler {
  async get() {
    await sleep(0.5);
    this.write({
      stand_in: "canned results, not Twitter",
      results: [
        { from_user: "stand-in", text: "tornado 2.1 is out" },
        { from_user: "stand-in", text: "async python at bcndevconf" },
        { from_user: "stand-in", text: "non-blocking I/O, one thread" },
      ],
    });
  }
}

class StopHandler extends RequestHandler {
  post() {
    this.write("search stand-in stopped\n");
    void search.stop();
  }
}

const search = new Application([
  ["/search.json", SearchHandler],
  ["/stop", StopHandler],
]).listen(8889);

const application = new Application([["/api", APIHandler]]);
application.listen(8888);
IOLoop.instance().start();
