/**
 * The protocol Clock over Moddable's Timer and Date. Timers run on monotonic
 * ticks; Date.now() is the RTC, which starts near 1970 on an ESP32 until someone
 * sets it. The firmware never sets it: the core keeps its own offset to the wall
 * time (firmware/core/clock.ts), so a time step cannot disturb a running timer.
 */
import Timer from 'timer';
import { systemClock, type Clock } from '../../../protocol/index.ts';

export function timerClock(): Clock {
  return systemClock({
    now: () => Date.now(),
    setTimeout: (fn, ms) => Timer.set(() => fn(), ms),
    clearTimeout: (id) => Timer.clear(id as Timer),
  });
}
