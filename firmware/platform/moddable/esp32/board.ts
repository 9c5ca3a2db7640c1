/**
 * An ESP32 meter board: relay driver on one GPIO, S0 pulse input(s) with pull-ups,
 * Wi-Fi in station mode, SNTP, and the hardware RNG (docs/installing-a-meter.md
 * shows the wiring). Mapped to the module "helios/board" for `-p esp32`.
 */
import Digital from 'embedded:io/digital';
import SNTP from 'sntp';
import Timer from 'timer';
import WiFi from 'wifi';
import fillRandom from 'helios/native/entropy';
import type { Board, BoardFactory, NetworkEvents } from '../board.ts';
import type { InstallerSettings } from '../settings.ts';

/** SNTP again every hour: the ESP32's RTC drifts by seconds a day. */
const SNTP_EVERY_MS = 3_600_000;
const SNTP_RETRY_MS = 60_000;
const WIFI_RETRY_MS = 10_000;

let radioStarted = false;

function startNetwork(s: InstallerSettings, events: NetworkEvents): void {
  const wifi = s.wifi;
  if (!wifi) {
    trace('no Wi-Fi credentials: build with mcconfig … ssid=<network> password=<secret>\n');
    return;
  }
  let sntpTimer: Timer | undefined;
  const syncTime = () => {
    if (sntpTimer !== undefined) Timer.clear(sntpTimer);
    sntpTimer = undefined;
    new SNTP({ host: s.sntpHost }, (message, value) => {
      if (message === 1 && typeof value === 'number') {
        events.time(value * 1000);
        sntpTimer = Timer.set(() => { sntpTimer = undefined; syncTime(); }, SNTP_EVERY_MS);
      } else if (message === -1) {
        // The gateway's Time message sets the clock meanwhile (docs/protocol.md §4).
        sntpTimer = Timer.set(() => { sntpTimer = undefined; syncTime(); }, SNTP_RETRY_MS);
      }
    });
  };
  radioStarted = true;
  new WiFi({ ssid: wifi.ssid, password: wifi.password }, (message) => {
    if (message === WiFi.gotIP) {
      events.up();
      syncTime();
    } else if (message === WiFi.disconnected) {
      events.down();
      // Keep trying; the meter keeps metering and switching meanwhile.
      Timer.set(() => WiFi.connect({ ssid: wifi.ssid, password: wifi.password }), WIFI_RETRY_MS);
    }
  });
}

const createBoard: BoardFactory = (s) => {
  // The output level that supplies the household.
  const levelFor = (closed: boolean): 0 | 1 => (closed ? s.relay.activeLevel : s.relay.activeLevel === 1 ? 0 : 1);
  const board: Board = {
    relay(closed) {
      // initialValue: the pin drives this level from the moment it becomes an output — no glitch at boot.
      const out = new Digital({ pin: s.relay.pin, mode: Digital.Output, initialValue: levelFor(closed) });
      return { set: (c: boolean) => out.write(levelFor(c)) };
    },
    watchS0(onEdge) {
      const watch = (channel: 'import' | 'export', pin: number) => {
        // With the optocoupler or open collector pulling low during a pulse, the pull-up holds the line high at rest.
        const mode = s.s0.activeLevel === 0 ? Digital.InputPullUp : Digital.InputPullDown;
        new Digital({
          pin,
          mode,
          edge: Digital.Rising | Digital.Falling,
          onReadable(this: Digital) {
            // Date.now(): the same time base as the meter's clock (firmware never sets the RTC; see clock.ts).
            onEdge(channel, this.read(), Date.now());
          },
        });
      };
      watch('import', s.s0.importPin);
      if (s.s0.exportPin !== undefined) watch('export', s.s0.exportPin);
    },
    network(events) {
      startNetwork(s, events);
    },
    entropy: (n) => new Uint8Array(fillRandom(n, !radioStarted)),
    clockSet: () => false,
  };
  return board;
};

export default createBoard;
