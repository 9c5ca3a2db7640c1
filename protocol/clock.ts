/**
 * The one clock. Everything in Helios that depends on time — block slots, market
 * periods, credit windows, login freshness, reading periods — reads a Clock that is
 * passed in, never Date.now() or setTimeout directly. Production uses the system
 * clock, the demo and the simulator a scaled one (`--speed 60`: a simulated minute
 * per real second), and tests a ManualClock they step by hand.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, in this clock's time. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Calls `fn` every `ms` of clock time until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = clock.setTimeout(tick, ms);
    fn();
  };
  handle = clock.setTimeout(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}

/** Resolves after `ms` of clock time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

interface HostTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

/**
 * The host's wall clock. Uses the global Date and timers, which Node and the
 * Moddable runtime both provide; protocol/ imports nothing to get them.
 */
export function systemClock(host?: HostTimers): Clock {
  const g = globalThis as unknown as {
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(h: unknown): void;
  };
  const h: HostTimers = host ?? {
    now: () => Date.now(),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (t) => g.clearTimeout(t),
  };
  let next = 1;
  const live = new Map<number, unknown>();
  return {
    now: () => h.now(),
    setTimeout(fn, ms) {
      const id = next++;
      live.set(id, h.setTimeout(() => {
        live.delete(id);
        fn();
      }, Math.max(0, ms)));
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) return;
      const t = live.get(handle.id);
      if (t !== undefined) {
        h.clearTimeout(t);
        live.delete(handle.id);
      }
    },
  };
}

/**
 * A clock that runs `speed` times faster than `base`, starting at `startMs`.
 * With speed 60 a simulated hour passes in a real minute. Timers are scheduled on
 * the base clock at 1/speed of their duration.
 */
export function scaledClock(base: Clock, speed: number, startMs: number = base.now()): Clock {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  const baseStart = base.now();
  return {
    now: () => startMs + Math.floor((base.now() - baseStart) * speed),
    setTimeout: (fn, ms) => base.setTimeout(fn, Math.max(0, ms) / speed),
    clearTimeout: (h) => base.clearTimeout(h),
  };
}

/**
 * A scaled clock that several processes can agree on: simulated time `simStart`
 * corresponds to real time `realAnchor` (ms on `base`), and time runs `speed` times
 * faster from there. A simulator and the gateway it starts pass each other the same
 * three numbers and tell the same time, across restarts too.
 */
export function anchoredClock(base: Clock, speed: number, simStart: number, realAnchor: number): Clock {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  return {
    now: () => simStart + Math.floor((base.now() - realAnchor) * speed),
    setTimeout: (fn, ms) => base.setTimeout(fn, Math.max(0, ms) / speed),
    clearTimeout: (h) => base.clearTimeout(h),
  };
}

interface ManualTimer {
  id: number;
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance` fires due timers in time order
 * (ties in the order they were set), each with now() equal to its due time.
 */
export class ManualClock implements Clock {
  private t: number;
  private timers: ManualTimer[] = [];
  private nextId = 1;
  private seq = 0;

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.push({ id, due: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.timers = this.timers.filter((x) => x.id !== handle.id);
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock backwards (advance ${ms})`);
    this.advanceTo(this.t + ms);
  }

  advanceTo(target: number): void {
    if (target < this.t) throw new RangeError(`cannot move a clock backwards (to ${target} from ${this.t})`);
    for (;;) {
      let best: ManualTimer | undefined;
      for (const x of this.timers) {
        if (x.due <= target && (!best || x.due < best.due || (x.due === best.due && x.seq < best.seq))) best = x;
      }
      if (!best) break;
      this.timers = this.timers.filter((x) => x !== best);
      this.t = best.due;
      best.fn();
    }
    this.t = target;
  }

  /**
   * As advance, but lets promise continuations run after each timer, so async code
   * driven by the timers (a meter awaiting a publish, say) keeps up with the clock.
   */
  async advanceAsync(ms: number, settle: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      let best: ManualTimer | undefined;
      for (const x of this.timers) {
        if (x.due <= target && (!best || x.due < best.due || (x.due === best.due && x.seq < best.seq))) best = x;
      }
      if (!best) break;
      this.timers = this.timers.filter((x) => x !== best);
      this.t = best.due;
      best.fn();
      await settle();
    }
    this.t = target;
    await settle();
  }

  /** Jump the wall clock without firing timers, as an NTP step or a skewed RTC would. */
  set(ms: number): void {
    const delta = ms - this.t;
    this.t = ms;
    for (const x of this.timers) x.due += delta;
  }
}
