// A tiny round-robin HTTP proxy for the compose example: each request goes to the next replica.
// UPSTREAMS=host:port,host:port,… (default mock1..3:4365), PORT (default 4365). No dependencies.
import http from 'node:http';

const upstreams = (process.env.UPSTREAMS ?? 'mock1:4365,mock2:4365,mock3:4365').split(',');
let next = 0;

http
  .createServer((req, res) => {
    const [host, port] = upstreams[next++ % upstreams.length].split(':');
    const out = http.request({ host, port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream ${host}:${port} did not answer\n`);
    });
    req.pipe(out);
  })
  .listen(Number(process.env.PORT ?? 4365), '0.0.0.0');
