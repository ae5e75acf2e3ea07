/** fastify 5 hello world, the popular-framework peer. Prints "listening <port>" once bound. */
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/", async (_request, reply) => {
  reply.header("Content-Type", "text/html; charset=UTF-8");
  return "Hello, world";
});
const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: "127.0.0.1" });
process.stdout.write(`listening ${new URL(address).port}\n`);
