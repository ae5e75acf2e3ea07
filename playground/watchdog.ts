/**
 * The clock of a watchdog that looks at a program every `everyMs` (a ping to the in-page
 * engine's worker, a read of a WebContainer program's heartbeat file) and calls it stuck once
 * it has shown no sign of life for `windowMs`.
 *
 * Two things make it more than `now - lastAnswer > window`:
 * - The quiet time starts at the first look after the last sign of life, not at the sign
 *   itself: a worker that answered a ping was alive until it was next asked, up to one look
 *   later. So "did not answer for 4 s" means a question waited 4 s.
 * - Only time the page spent looking counts. After a gap in the looks (the page's thread was
 *   busy with a long task, or a background tab's timers were throttled to once a minute), the
 *   window starts again: a program nobody asked is not a program that did not answer, and an
 *   answer that waited in the page's queue behind the gap says nothing either way.
 */
import { now } from "./output.js";

/** A gap between looks this much longer than their period means the page was away. */
export const AWAY_MS = 1000;

/** A watchdog on one program: each look asks it for a sign of life. */
export interface Watchdog {
  /** Look (ask once more); true once the program has been quiet for the whole window. */
  look(): boolean;
  /** Stop watching. */
  release(): void;
}

export class QuietClock {
  private quietSince: number;
  private lastLook: number;
  private answered = false;

  constructor(
    private readonly windowMs: number,
    private readonly everyMs: number,
    t = now(),
  ) {
    this.quietSince = t;
    this.lastLook = t;
  }

  /** A sign of life, heard between two looks: an answer to a ping, a heartbeat that moved. */
  alive(): void {
    this.answered = true;
  }

  /** A look, made every `everyMs`: true once the program has been quiet for the whole window. */
  look(t = now()): boolean {
    const away = t - this.lastLook > this.everyMs + AWAY_MS;
    this.lastLook = t;
    if (away || this.answered) {
      this.quietSince = t;
      this.answered = false;
    }
    return t - this.quietSince >= this.windowMs;
  }
}
