import { describe, expect, it } from "vitest";
import { QuietClock } from "./watchdog.js";

/** The first of `looks` (times, ms) that calls the program stuck; `answeredAfter(t)`: the look at t is answered before the next. */
function stuckAt(clock: QuietClock, looks: number[], answeredAfter: (t: number) => boolean): number | null {
  for (const t of looks) {
    if (clock.look(t)) return t;
    if (answeredAfter(t)) clock.alive();
  }
  return null;
}

const every = (ms: number, from: number, to: number) => Array.from({ length: Math.floor((to - from) / ms) + 1 }, (_, i) => from + i * ms);

describe("QuietClock", () => {
  it("never calls a program stuck while each look is answered before the next", () => {
    expect(stuckAt(new QuietClock(4000, 1000, 0), every(1000, 0, 60_000), () => true)).toBeNull();
    expect(stuckAt(new QuietClock(1000, 100, 0), every(100, 0, 10_000), () => true)).toBeNull();
  });

  it("counts the window from the first look left unanswered, not from the last answer", () => {
    // Answers up to the look at 2 s; the program is stuck after it. The look at 3 s is the first
    // question left unanswered, so it is stuck once that question has waited 4 s.
    expect(stuckAt(new QuietClock(4000, 1000, 0), every(1000, 0, 20_000), (t) => t <= 2000)).toBe(7000);
    // Never answered: quiet since the clock started.
    expect(stuckAt(new QuietClock(4000, 1000, 0), every(1000, 0, 20_000), () => false)).toBe(4000);
    expect(stuckAt(new QuietClock(1500, 100, 0), every(100, 0, 20_000), (t) => t < 1000)).toBe(2500);
  });

  it("starts the window again after the page was away (no looks for a while), as a program nobody asked owes no answer", () => {
    // Looks at 0 and 1 s, then the page's thread is busy until 7 s (6 s without a look): the
    // answer to the look at 1 s waited in the page's queue, so nothing is heard at first.
    const clock = new QuietClock(4000, 1000, 0);
    expect(stuckAt(clock, [0, 1000], () => true)).toBeNull();
    expect(clock.look(7000)).toBe(false);
    clock.alive();
    // Answered from then on: alive.
    expect(stuckAt(clock, every(1000, 8000, 30_000), () => true)).toBeNull();
    // Still a program that stays silent after the gap is stuck, once it has been asked for the window.
    const silent = new QuietClock(4000, 1000, 0);
    expect(stuckAt(silent, [0, 1000, 7000, ...every(1000, 8000, 20_000)], (t) => t < 1000)).toBe(11_000);
  });

  it("tolerates a late look: a gap under one period plus a second is not away", () => {
    // Never answered; one look comes 1.9 s after the one before (a loaded machine), which does
    // not restart the window (restarted, it would run to 6.9 s).
    expect(stuckAt(new QuietClock(4000, 1000, 0), [0, 1000, 2900, 3900, 4900, 5900, 6900], () => false)).toBe(4900);
  });
});
