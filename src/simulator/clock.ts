/** The simulator's clock; tests move it forward to reach the 300 s consumer expiry without waiting. */
export class SimClock {
  private offsetMs = 0;

  now = (): Date => new Date(Date.now() + this.offsetMs);

  advance(seconds: number): Date {
    this.offsetMs += seconds * 1000;
    return this.now();
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}
