import { freePort } from '../simulator/gatewayProcess.ts';
import { guard, parse, UsageError } from '../gateway/cli/util.ts';
import { checkFlows } from './check.ts';
import { flowsEnv } from './env.ts';
import { FlowsProcess } from './process.ts';

export const help = `
helios flows — run the Node-RED flows against a grid: the market's broadcasts
(AcceptOfferBroadcast, CloseBidding) on the grid's clock, and the dashboards

Usage: helios flows [options]

  --data DIR         the grid's data directory (default ./data); its gateway must be
                     running unless gateway.json has fixed ports
  --port N           dashboard port (default 1880; 0 picks a free one)
  --host HOST        bind address (default 127.0.0.1)
  --editor           also serve the Node-RED editor and admin API at /admin, behind the
                     operator secret (user "operator"); off by default
  --check            load the flows read-only and exit: 0 when every node type is
                     there, no wire or reference dangles and nothing logs an error
  --log-level LEVEL  Node-RED's log level (default info)

Grid id, market period, broker, HTTP API and the operator credential come from the
data directory (operator.secret, or HELIOS_OPERATOR_SECRET). Node-RED's user
directory is DIR/flows. Dashboards: http://HOST:PORT/dashboard/market (public),
…/household, …/wallet, …/operator. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM;
Node-RED is restarted if it exits by itself.
`;

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const { values: v } = parse(argv, {
      data: { type: 'string', default: 'data' },
      port: { type: 'string', default: '1880' },
      host: { type: 'string', default: '127.0.0.1' },
      editor: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      'log-level': { type: 'string' },
    });
    if (!/^\d+$/.test(v.port!) || Number(v.port) > 65535) throw new UsageError('--port must be a port number (0 picks a free one)');
    const port = Number(v.port) === 0 ? await freePort() : Number(v.port);
    const env = flowsEnv({ dataDir: v.data!, port, host: v.host, editor: v.editor, logLevel: v['log-level'] });
    if (v.check) return (await checkFlows(env, (s) => process.stdout.write(s + '\n'))) ? 0 : 1;
    const nr = new FlowsProcess({ env, onLine: (l) => process.stdout.write(l + '\n') });
    await nr.start();
    process.stdout.write([
      `helios flows: grid "${env.HELIOS_GRID}" at ${env.HELIOS_API_URL}`,
      `  Dashboard  ${nr.url}/dashboard/market`,
      ...(v.editor ? [`  Editor     ${nr.url}/admin  (user "operator", the operator secret)`] : []),
      '',
    ].join('\n'));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await nr.stop();
    return 0;
  });
}
