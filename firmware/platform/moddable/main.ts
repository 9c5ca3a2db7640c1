/**
 * The meter firmware's entry point (manifest.json: creation.main). Order matters:
 * the relay output is driven to its power-on state before anything else can fail,
 * then the meter restores its registers, makes or loads its key, and only then
 * starts the network. A bad setting stops the meter with a message on the
 * console — it never reboots in a loop.
 */
import config from 'mc/config';
import createBoard from 'helios/board';
import createStore from 'helios/store';
import { Meter, PulseCounter, S0EnergySource, checkedStore, codeOf, messageOf, type Logger } from '../../core/index.ts';
import { timerClock } from './clock.ts';
import { ModdableMqttTransport } from './mqtt.ts';
import { parseInstallerSettings } from './settings.ts';

const logger: Logger = {
  log(level, message) {
    trace(`${level === 'info' ? '' : level.toUpperCase() + ' '}${message}\n`);
  },
};

function boot(): Meter {
  const settings = parseInstallerSettings(config);
  const board = createBoard(settings);
  const relay = board.relay(settings.meter.relayPowerOn === 'closed');
  const s0 = settings.s0;
  const energy = new S0EnergySource(
    new PulseCounter(settings.meter.pulsesPerKWh, settings.meter.debounceMs, s0.activeLevel),
    s0.exportPin === undefined ? undefined : new PulseCounter(settings.meter.pulsesPerKWh, settings.meter.debounceMs, s0.activeLevel),
  );
  const meter = new Meter({
    config: settings.meter,
    // One entry per record, each written so a cut leaves the old value or the new (lin: a file per
    // record, renamed over; esp32: an NVS entry per record), behind the ESP32's limits.
    storage: checkedStore(createStore(), 'flash'),
    clock: timerClock(),
    clockSet: board.clockSet(),
    entropy: board.entropy,
    transport: new ModdableMqttTransport(settings.broker),
    relay,
    energy,
    log: logger,
  });
  board.watchS0((channel, level, tMs) => energy.edge(channel, level, tMs));
  meter.start();
  board.network({
    up: () => meter.networkUp(),
    down: () => {},
    time: (ms) => meter.setTime(ms, 'sntp'),
  });
  return meter;
}

try {
  const meter = boot();
  trace(`Helios meter ${meter.meterId} running (${meter.enrolled ? 'enrolled' : 'waiting for enrolment'})\n`);
} catch (e) {
  trace(`ERROR the meter did not start: ${codeOf(e)} ${messageOf(e)}\n`);
}
