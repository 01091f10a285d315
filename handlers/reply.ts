/**
 * reply(response, status, body): the one way a handler answers, with JSON.
 *
 * Why not express's `res.status().json()`: on the write path its content-type
 * and charset negotiation and freshness check cost about a third of a bare
 * express request (67 against 45 µs per request on this 2-core VM). ETags are
 * off, so `res.send`'s 304 handling never applied; node itself drops the body
 * of a HEAD answer. The bytes on the wire are the same.
 */
import type { Response } from 'express';

const JSON_TYPE = 'application/json; charset=utf-8';

export function reply(response: Response, status: number, body: unknown): void {
  // JSON.stringify(undefined) is undefined, not text: answer JSON null instead.
  const text = JSON.stringify(body) ?? 'null';
  response.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
