/**
 * `helios meter`: the installer's and operator's commands (gateway/cli/meter.ts) and
 * a virtual meter for one household (simulator/meter.ts: `run`, `wait`), and the
 * device firmware in the Moddable simulator (simulator/mcsim.ts: `sim`). Dispatched
 * here so the gateway never imports firmware code.
 */
import * as gatewayMeter from '../gateway/cli/meter.ts';
import * as virtualMeter from '../simulator/meter.ts';
import { runSimCommand, simHelp } from '../simulator/mcsim.ts';

const virtualUsage = `  helios meter run --dir DIR [--data DIR] [--power W | --export W] [--enroll EMAIL] [--minutes N]
      One virtual meter for a household, running the real firmware core against the
      grid's gateway: its console, registers, relay and credit as it goes.
  helios meter wait --dir DIR --for hello|enrolled|credit-used
      Wait until that meter has said Hello, is enrolled, or has used a credit.
  helios meter id --dir DIR [--public-key]
      That meter's id (or public key), as on a device's label.
  helios meter sim [--data DIR] [--meter-dir DIR] [--power W] [--reading-period S]
                   [--broker-host H] [--broker-port P]
      The real device firmware (manifest.json), built with the Moddable SDK for the
      Linux host and run in its simulator mcsim against the grid's gateway.
`;

// The virtual meter's usage goes with the others, before the note on the operator secret.
export const help = `${gatewayMeter.help.trimEnd().replace('\nOperator commands', `${virtualUsage}\nOperator commands`)}
${virtualMeter.help}${simHelp}`;

export function run(argv: string[]): Promise<number> {
  if (argv[0] === 'sim') return runSimCommand(argv.slice(1));
  return argv[0] === 'run' || argv[0] === 'wait' || argv[0] === 'id' ? virtualMeter.run(argv) : gatewayMeter.run(argv);
}
