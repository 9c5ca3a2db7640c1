/** A relay for virtual meters: it remembers its state and cuts or restores a simulated household's supply. */
import type { RelayOutput } from '../../core/index.ts';

export class VirtualRelay implements RelayOutput {
  closed: boolean | undefined;
  /** Switchings, oldest first (closed = supplied), with the time they happened. */
  readonly history: Array<{ t: number; closed: boolean }> = [];

  constructor(private readonly onSwitch?: (closed: boolean) => void, private readonly now: () => number = () => 0) {}

  set(closed: boolean): void {
    if (closed === this.closed) return;
    this.closed = closed;
    if (this.history.length >= 64) this.history.shift();
    this.history.push({ t: this.now(), closed });
    this.onSwitch?.(closed);
  }
}
