// The server's timeline (src/server/clock.ts): the monotonic clock moves it, the wall clock's steps
// do not; it continues across restarts, exactly on the same host boot, by the wall clock otherwise.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ClockCheckpoint,
  type ClockSources,
  Timeline,
  wallOffsetSeconds,
} from '../../src/server/clock.js';

const WALL = 1_800_000_000_000;

/** Clocks the test moves by hand: a monotonic clock, a wall clock, a host boot id. */
class FakeClocks implements ClockSources {
  mono = 5_000_000;
  wall = WALL;
  boot: string | null = 'boot-1';
  monoMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  bootId(): string | null {
    return this.boot;
  }
  /** Real time passes: both clocks move. */
  pass(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }
}

describe('the timeline (src/server/clock.ts)', () => {
  test('starts at the wall clock and follows the monotonic clock, not the wall clock, when the wall clock is stepped', () => {
    const c = new FakeClocks();
    const { clock, resume } = Timeline.resume(null, c);
    assert.equal(resume, null);
    assert.equal(clock.nowSeconds(), WALL / 1000);
    c.pass(10_000);
    c.wall -= 299_000; // an operator sets the clock 299 s back
    assert.equal(clock.nowSeconds(), WALL / 1000 + 10, 'the timeline did not go back');
    assert.equal(clock.wallSeconds(), WALL / 1000 + 10 - 299);
    assert.equal(wallOffsetSeconds(clock), -299);
    c.pass(5_000);
    c.wall += 3_600_000; // and an hour forward
    assert.equal(clock.nowSeconds(), WALL / 1000 + 15, 'nor forward');
  });

  test('a restart on the same host boot continues the timeline by the monotonic clock, whatever the wall clock did meanwhile', () => {
    const c = new FakeClocks();
    const first = Timeline.resume(null, c).clock;
    c.pass(60_000);
    c.wall -= 120_000; // stepped back under the first process
    const checkpoint = first.checkpoint();
    const lastAliveAt = Math.floor(checkpoint.localMs / 1000);
    c.pass(30_000); // down 30 s
    c.wall += 500_000; // and stepped forward while down
    const { clock, resume } = Timeline.resume(checkpoint, c);
    assert.deepEqual(resume, { isMeasured: true, lastAliveAt, lastUnmeasured: null });
    assert.equal(clock.nowSeconds(), lastAliveAt + 30, 'exactly the downtime');
    assert.equal(clock.nowSeconds(), WALL / 1000 + 90);
  });

  test('after a power loss (another boot id) the timeline goes on by the wall clock, never backwards, and says so', () => {
    const c = new FakeClocks();
    const first = Timeline.resume(null, c).clock;
    c.pass(60_000);
    const checkpoint = first.checkpoint();
    const lastAliveAt = Math.floor(checkpoint.localMs / 1000);
    c.boot = 'boot-2';
    c.mono = 1_000; // the monotonic clock starts again
    c.wall += 40_000;
    const r = Timeline.resume(checkpoint, c);
    assert.deepEqual(r.resume, {
      isMeasured: false,
      lastAliveAt,
      lastUnmeasured: { lastAliveAt, bootAt: lastAliveAt + 40 },
    });
    assert.equal(r.clock.nowSeconds(), lastAliveAt + 40);
    // A wall clock that reads earlier than the checkpoint (a dead RTC battery): no step back.
    c.wall = WALL - 86_400_000;
    const back = Timeline.resume(checkpoint, c);
    assert.equal(back.resume?.isMeasured, false);
    assert.equal(back.clock.nowSeconds(), lastAliveAt);
    // No boot id to compare (not Linux): never measured.
    c.boot = null;
    assert.equal(Timeline.resume({ ...checkpoint, bootId: null }, c).resume?.isMeasured, false);
  });

  test('a timeline that began offset from the wall clock keeps the offset across restarts (stored times stay meaningful)', () => {
    const c = new FakeClocks();
    const checkpoint: ClockCheckpoint = {
      bootId: 'boot-1',
      monoMs: c.mono,
      localMs: WALL - 100_000,
      wallMs: WALL,
    };
    c.pass(20_000);
    const { clock } = Timeline.resume(checkpoint, c);
    assert.equal(clock.nowSeconds(), WALL / 1000 - 100 + 20);
    assert.equal(wallOffsetSeconds(clock), 100);
    assert.deepEqual(Timeline.parseCheckpoint(JSON.stringify(clock.checkpoint())), clock.checkpoint());
    assert.equal(Timeline.parseCheckpoint('{"bootId":1}'), null);
    assert.equal(Timeline.parseCheckpoint('not json'), null);
  });

  test('the last restart no clock measured is carried in every checkpoint, across measured restarts, until the next one', () => {
    const c = new FakeClocks();
    const first = Timeline.resume(null, c).clock;
    c.pass(60_000);
    const beforePowerLoss = first.checkpoint();
    assert.equal(beforePowerLoss.lastUnmeasured, null);
    c.boot = 'boot-2';
    c.mono = 1_000;
    c.wall += 200_000; // down 40 s, the wall clock stepped 160 s forward meanwhile
    const second = Timeline.resume(beforePowerLoss, c).clock;
    const unmeasured = {
      lastAliveAt: Math.floor(beforePowerLoss.localMs / 1000),
      bootAt: Math.floor(beforePowerLoss.localMs / 1000) + 200,
    };
    c.pass(30_000);
    const beforeCrash = second.checkpoint();
    assert.deepEqual(beforeCrash.lastUnmeasured, unmeasured);
    // A process crash on the same host boot: measured, and the times stored before the power loss
    // are still on the timeline of before it.
    c.pass(5_000);
    const third = Timeline.resume(Timeline.parseCheckpoint(JSON.stringify(beforeCrash)), c);
    assert.deepEqual(third.resume, {
      isMeasured: true,
      lastAliveAt: Math.floor(beforeCrash.localMs / 1000),
      lastUnmeasured: unmeasured,
    });
    assert.deepEqual(third.clock.checkpoint().lastUnmeasured, unmeasured);
    // A stored record that is not one makes the checkpoint unreadable (a new timeline).
    assert.equal(
      Timeline.parseCheckpoint(JSON.stringify({ ...beforeCrash, lastUnmeasured: { bootAt: 'x' } })),
      null,
    );
  });
});
