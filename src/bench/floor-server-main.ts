import http from 'node:http';

/**
 * The floor for `npm run bench -- scale`: a bare Node HTTP server that reads a callback's body and
 * answers 200 with a constant, no framework, no storage. Timed by the same load generator as the
 * connector, it shows what the machine itself allows (connection setup, scheduling, the load
 * generator's own CPU), so the connector's figures can be read against it.
 */
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{"status":"accepted"}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ listening: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
