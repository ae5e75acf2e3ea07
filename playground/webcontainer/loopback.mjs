/**
 * Preloaded (`--import`) into every process the Node-backed container spawns: the container's
 * own localhost, as a WebContainer has one (its programs bind 8888 without meeting anything else
 * on the machine). The container is given a loopback address of its own (127.a.b.c, in
 * NODE_CONTAINER_HOST): a server bound to every interface or to localhost binds there instead,
 * and a connection to localhost goes there. So the talk's programs keep their port 8888, and
 * two containers, or a container and the machine's own 8888, never collide.
 *
 * Connections reach that address from 127.0.0.1 (Linux's source for the loopback route), so
 * what a program logs of its clients is what it logs on localhost. Plain JavaScript: the
 * spawned processes run plain `node`.
 */
import net from "node:net";

const host = process.env.NODE_CONTAINER_HOST;
const isLocal = (h) => h === undefined || h === null || h === "" || h === "localhost" || h === "0.0.0.0" || h === "::" || h === "127.0.0.1" || h === "::1";

if (host) {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (...args) {
    // listen(port[, host][, backlog][, cb]) and listen({ port, host }[, cb]) become the
    // options form on the container's address; a path, a handle or a fd is left alone.
    const [options, cb] = net._normalizeArgs(args);
    if (options.path == null && options.handle == null && options._handle == null && options.fd == null && isLocal(options.host)) {
      const backlog = typeof args[1] === "number" ? args[1] : typeof args[2] === "number" ? args[2] : options.backlog;
      return listen.call(this, { ...options, host, ...(backlog === undefined ? {} : { backlog }) }, ...(cb ? [cb] : []));
    }
    return listen.apply(this, args);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    // net.connect passes its normalised [options, cb] pair as the one argument.
    const [options, cb] = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
    if (options.path == null && isLocal(options.host)) return connect.call(this, { ...options, host }, ...(cb ? [cb] : []));
    return connect.apply(this, args);
  };
}
