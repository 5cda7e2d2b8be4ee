// A static HTTP/2 server (TLS, gzip for text) for bench/bench_check.py: how CDNs serve a site.
//
//   node bench/h2_serve.mjs <site-dir> <key.pem> <cert.pem>
//
// Listens on 127.0.0.1 on a free port and prints that port on stdout; stops when stdin closes.
import { createSecureServer } from "node:http2";
import { readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { gzipSync } from "node:zlib";

const [site, key, cert] = process.argv.slice(2);
const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
  ".xml": "application/xml", ".woff2": "font/woff2", ".ico": "image/x-icon",
};

const server = createSecureServer({ key: readFileSync(key), cert: readFileSync(cert), allowHTTP1: true });
server.on("request", (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "https://x").pathname);
  let file = normalize(join(site, path));
  if (!file.startsWith(normalize(site))) file = "";
  try {
    if (file && statSync(file).isDirectory()) file = join(file, "index.html");
    let body = readFileSync(file);
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    const headers = { "content-type": type, "cache-control": "max-age=600", vary: "Accept-Encoding" };
    if (/gzip/.test(req.headers["accept-encoding"] ?? "") && !/image\/png|woff2/.test(type) && body.length > 256) {
      body = gzipSync(body, { level: 6 });
      headers["content-encoding"] = "gzip";
    }
    headers["content-length"] = body.length;
    res.writeHead(200, headers);
    res.end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  }
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
