# Written for Tornado 6 (not the 2011 code): the talk's APIHandler with async/await.
from tornado import gen, httpclient, ioloop, web
from tornado.escape import json_decode


class APIHandler(web.RequestHandler):
    async def get(self):
        http = httpclient.AsyncHTTPClient()
        print("GET /api: fetching the search service; the loop serves others meanwhile", flush=True)
        try:
            response = await http.fetch("http://localhost:8889/search.json?q=tornado")
        except Exception:
            raise web.HTTPError(500)
        json = json_decode(response.body)
        self.write({"twits": [result["text"] for result in json["results"]]})


# STAND-IN for the 2011 Twitter search API (gone): canned results, answered after 0.5 s.
class SearchHandler(web.RequestHandler):
    async def get(self):
        await gen.sleep(0.5)
        self.write({
            "stand_in": "canned results, not Twitter",
            "results": [
                {"from_user": "stand-in", "text": "tornado 2.1 is out"},
                {"from_user": "stand-in", "text": "async python at bcndevconf"},
                {"from_user": "stand-in", "text": "non-blocking I/O, one thread"},
            ],
        })


class StopHandler(web.RequestHandler):
    def post(self):
        self.write("search stand-in stopped\n")
        search.stop()


search = web.Application([
    (r"/search.json", SearchHandler),
    (r"/stop", StopHandler),
]).listen(8889)

application = web.Application([(r"/api", APIHandler)])
application.listen(8888)
ioloop.IOLoop.current().start()
