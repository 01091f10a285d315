/**
 * The ceiling for the benchmarks: a bare express app answering a trivial JSON
 * endpoint, run as its own process like a ddb node. `node bare-express.js <port>`.
 */
import express from 'express';

const port = Number(process.argv[2]);
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(express.json());
app.get('/ping', (_request, response) => {
  response.json({ ok: true });
});
app.post('/ping', (request, response) => {
  response.status(201).json({ ok: true, size: Object.keys(request.body ?? {}).length });
});
app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
