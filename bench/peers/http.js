// http: bench/http_server's Node peer: node's http module, / (13 bytes) and
// /16k (16 KiB), keep-alive.
//
// usage: node http.js PORT
const http = require('http');
const hello = Buffer.from('Hello, World!');
const big = Buffer.alloc(16384, 'x');
http.createServer((req, res) => {
    const body = req.url === '/16k' ? big : hello;
    res.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': body.length});
    res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');
