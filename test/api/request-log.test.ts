/** The request log: data requests at info, the probes (/health, /ready, /status) at debug. */
import { Writable } from 'node:stream';
import request from 'supertest';
import winston from 'winston';
import { createApp } from '../../src/http/app';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeAll(async () => {
  test_node = await startSingleNode();
});
afterAll(() => test_node.stop());

function recordingApp(level: string): { app: ReturnType<typeof createApp>; lines: { level: string; path: string }[] } {
  const lines: { level: string; path: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: string; path: string });
      done();
    },
  });
  const logger = winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { app: createApp(test_node.node, { logger, body_limit_bytes: 1 << 20 }), lines };
}

it('logs probes at debug and other requests at info', async () => {
  const { app, lines } = recordingApp('debug');
  for (const path of ['/health', '/ready', '/status']) await request(app).get(path);
  await request(app).post('/create_table').send({ table_name: 'logged', columns: ['a'] });
  expect(lines.map((line) => [line.path, line.level])).toEqual([
    ['/health', 'debug'],
    ['/ready', 'debug'],
    ['/status', 'debug'],
    ['/create_table', 'info'],
  ]);
});

it('at info, writes no line for the probes', async () => {
  const { app, lines } = recordingApp('info');
  await request(app).get('/health');
  await request(app).get('/select?table=logged');
  expect(lines.map((line) => line.path)).toEqual(['/select']);
});
