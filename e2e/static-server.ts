/**
 * A plain static file server, like any static host: files under `root`, mounted at a sub-path.
 *
 * It knows nothing about Vite, so a deck that only works under Vite's servers fails here.
 * Used by the e2e global setup and by bench/deck.ts.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

export interface StaticServer {
  /** Full URL of the mount point, ending in "/". */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  root: string;
  /** Sub-path the files are served under, starting and ending with "/". */
  mount?: string;
  /** Send COOP: same-origin, COEP: require-corp and CORP: same-origin. */
  isolation?: boolean;
  /** Port to listen on (default 0, any free one); a restarted server reuses its port to keep its origin. */
  port?: number;
  /** Gzip is left to the caller; this server sends files as they are. */
}

export const mimeTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".wasm": "application/wasm",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".pdf": "application/pdf",
};

export function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const mount = options.mount ?? "/";
  const root = normalize(options.root);
  const server: Server = createServer(async (req, res) => {
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (options.isolation) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
      headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }
    const notFound = (status = 404, text = "Not Found") => {
      res.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
      res.end(`${status} ${text}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return notFound(405, "Method Not Allowed");
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    if (pathname === mount.replace(/\/$/, "")) {
      res.writeHead(301, { ...headers, Location: mount });
      return res.end();
    }
    if (!pathname.startsWith(mount)) return notFound();
    let rel: string;
    try {
      rel = decodeURIComponent(pathname.slice(mount.length));
    } catch {
      return notFound(400, "Bad Request");
    }
    if (rel === "" || rel.endsWith("/")) rel += "index.html";
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) return notFound();
    const info = await stat(file).catch(() => undefined);
    if (!info || !info.isFile()) return notFound();
    res.writeHead(200, {
      ...headers,
      "Content-Type": mimeTypes[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": String(info.size),
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveStart, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolveStart({
        url: `http://127.0.0.1:${port}${mount}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
