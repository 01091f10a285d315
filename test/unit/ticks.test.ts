/** TickClock: wall-clock milliseconds as ticks, however late the timer runs. */
import { TickClock } from '../../src/node/ticks';

it('counts elapsed time, not timer callbacks, and carries the remainder', () => {
  const clock = new TickClock(10, 1000, 0);
  expect(clock.due(9)).toBe(0);
  expect(clock.due(10)).toBe(1);
  // A callback 35 ms late is worth 3 ticks more, with 5 ms carried over.
  expect(clock.due(55)).toBe(4);
  expect(clock.due(60)).toBe(1);
  // 1,000 late callbacks of 13 ms each: 1,300 ticks, exactly as many as on time.
  let total = 0;
  for (let now = 73; now <= 13_060; now += 13) total += clock.due(now);
  expect(total).toBe(1300);
});

it('runs at most max_ticks after a long stall, then counts from the present', () => {
  const clock = new TickClock(10, 100, 0);
  expect(clock.due(60_000)).toBe(100);
  expect(clock.due(60_005)).toBe(0);
  expect(clock.due(60_010)).toBe(1);
});

it('never counts backwards', () => {
  const clock = new TickClock(10, 100, 1000);
  expect(clock.due(990)).toBe(0);
  expect(clock.due(1010)).toBe(1);
});
