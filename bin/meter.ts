/**
 * `helios meter`: the installer's and operator's commands (gateway/cli/meter.ts) and
 * a virtual meter for one household (simulator/meter.ts: `run`, `wait`). Dispatched
 * here so the gateway never imports firmware code.
 */
import * as gatewayMeter from '../gateway/cli/meter.ts';
import * as virtualMeter from '../simulator/meter.ts';

const virtualUsage = `  helios meter run --dir DIR [--data DIR] [--power W | --export W] [--enroll EMAIL] [--minutes N]
      One virtual meter for a household, running the real firmware core against the
      grid's gateway: its console, registers, relay and credit as it goes.
  helios meter wait --dir DIR --for hello|enrolled|credit-used
      Wait until that meter has said Hello, is enrolled, or has used a credit.
  helios meter id --dir DIR [--public-key]
      That meter's id (or public key), as on a device's label.
`;

// The virtual meter's usage goes with the others, before the note on the operator secret.
export const help = `${gatewayMeter.help.trimEnd().replace('\nOperator commands', `${virtualUsage}\nOperator commands`)}
${virtualMeter.help}`;

export function run(argv: string[]): Promise<number> {
  return argv[0] === 'run' || argv[0] === 'wait' || argv[0] === 'id' ? virtualMeter.run(argv) : gatewayMeter.run(argv);
}
