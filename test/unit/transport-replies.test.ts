/** HttpTransport's replies: answers ride back in the response of the request that caused them. */
import { HttpTransport } from '../../src/replication/transport';
import { createSilentLogger } from '../../utils/logger';

type Note = { type: string; to: number; n: number };

function transport(): HttpTransport<Note> {
  // Port 9 (discard) is never contacted: every message below goes into an open reply.
  return new HttpTransport<Note>(new Map([[2, 'http://127.0.0.1:9']]), () => {}, createSilentLogger());
}

it("a pass answers only the replies opened before it started, with what was sent to that peer meanwhile", async () => {
  const peers = transport();
  const first = peers.openReply(2);
  peers.passStarted();
  // Opened during the pass (a request stepped while the fsync ran): its answers are in the next pass.
  const second = peers.openReply(2);
  peers.send([{ type: 'append_response', to: 2, n: 1 }]);
  peers.passEnded();
  expect(await first).toEqual([{ type: 'append_response', to: 2, n: 1 }]);

  let secondSettled = false;
  void second.then(() => (secondSettled = true));
  await Promise.resolve();
  expect(secondSettled).toBe(false);
  peers.send([{ type: 'append_response', to: 2, n: 2 }]);
  peers.passStarted();
  peers.passEnded();
  expect(await second).toEqual([{ type: 'append_response', to: 2, n: 2 }]);
  peers.close();
});

it('close() answers every open reply', async () => {
  const peers = transport();
  const open = peers.openReply(2);
  peers.close();
  expect(await open).toEqual([]);
});
