/** Moddable `time` (modules/base/time). */
declare module 'time' {
  const Time: {
    /** Milliseconds on a monotonic counter (not the wall clock). */
    readonly ticks: number;
    /** Difference between two tick values, wrap-around safe. */
    delta(start: number, end?: number): number;
    /** Set the real-time clock, seconds since the epoch. */
    set(seconds: number): void;
  };
  export default Time;
}
