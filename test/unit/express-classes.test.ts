/**
 * expressClasses: node builds req and res on express's own prototypes, so
 * express's per-request Object.setPrototypeOf changes nothing, and express
 * behaves as it does on a plain server (its request and response methods work).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressClasses } from '../../src/http/express-classes';

it('constructs req and res with the prototypes express would give them, and express still works', async () => {
  const app = express();
  app.set('query parser', 'simple');
  app.get('/echo', (request, response) => {
    response.status(202).json({ query: request.query, app: request.app === app });
  });
  const seen: boolean[] = [];
  const server = http.createServer(expressClasses(app), (request, response) => {
    seen.push(Object.getPrototypeOf(request) === app.request && Object.getPrototypeOf(response) === app.response);
    app(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/echo?x=1`);
    expect(answer.status).toBe(202);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await answer.json()).toEqual({ query: { x: '1' }, app: true });
    expect(seen).toEqual([true]);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
