/** Moddable `timer` (modules/base/timer): callbacks after a delay, on the runtime's monotonic ticks. */
declare module 'timer' {
  type TimerID = number;
  const Timer: {
    set(callback: (id: TimerID) => void, delay?: number, repeat?: number): TimerID;
    repeat(callback: (id: TimerID) => void, interval: number): TimerID;
    schedule(id: TimerID, delay?: number, repeat?: number): void;
    clear(id: TimerID): void;
  };
  export default Timer;
}
