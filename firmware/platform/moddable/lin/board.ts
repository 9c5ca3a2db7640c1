/**
 * The meter on the Moddable Linux host (`mcconfig -m -p lin`): no pins and no
 * radio, so the relay is a line on the console and the S0 input is a simulated
 * household drawing `simPowerW` while supplied. Network and clock are the host's.
 * Mapped to the module "helios/board" for `-p lin`.
 */
import Timer from 'timer';
import fillRandom from 'helios/native/entropy';
import type { Board, BoardFactory } from '../board.ts';

const PULSE_WIDTH_MS = 40;

const createBoard: BoardFactory = (s) => {
  let supplied = false;
  const board: Board = {
    relay(closed) {
      supplied = closed;
      trace(`relay ${closed ? 'closed' : 'open'} (simulated, pin ${s.relay.pin})\n`);
      return {
        set(c: boolean) {
          supplied = c;
          trace(`relay ${c ? 'closed' : 'open'} (simulated)\n`);
        },
      };
    },
    watchS0(onEdge) {
      if (s.simPowerW <= 0) return;
      // One pulse per 10^6/pulsesPerKWh mWh at simPowerW: every 3.6e9 / (ppk · P) ms.
      const everyMs = Math.max(PULSE_WIDTH_MS * 2, Math.round(3.6e9 / (s.meter.pulsesPerKWh * s.simPowerW)));
      const active = s.s0.activeLevel;
      Timer.repeat(() => {
        if (!supplied) return;
        onEdge('import', active, Date.now());
        Timer.set(() => onEdge('import', active === 1 ? 0 : 1, Date.now()), PULSE_WIDTH_MS);
      }, everyMs);
    },
    network(events) {
      Timer.set(() => events.up(), 0);
    },
    entropy: (n) => new Uint8Array(fillRandom(n, false)),
    clockSet: () => true,
  };
  return board;
};

export default createBoard;
