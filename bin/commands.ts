/**
 * The subcommands of `helios`, loaded lazily so `helios --help` starts fast and
 * each command pulls in only what it needs. A command module exports `run(argv)`
 * returning the exit code, and `help` (its usage text).
 */
export interface CommandModule {
  help: string;
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, CommandEntry> = {
  init: { summary: 'create a grid: genesis, authority key, configuration', load: () => import('../gateway/cli/init.ts') },
  gateway: { summary: 'run the gateway: MQTT broker, readings, ledger, market, HTTP API', load: () => import('../gateway/cli/gateway.ts') },
  ledger: { summary: 'verify, show or export the chain', load: () => import('../gateway/cli/ledger.ts') },
  wallet: { summary: "a household's key and tokens: new, balance, send, mint", load: () => import('../gateway/cli/wallet.ts') },
  participant: { summary: 'register, list and show households', load: () => import('../gateway/cli/participant.ts') },
  meter: { summary: 'enrol, list, show and revoke meters; meters waiting for enrolment; run a virtual meter', load: () => import('./meter.ts') },
  market: { summary: 'the hourly market: status, offer, bid, cancel, history; storage, direct purchase, standing orders', load: () => import('../gateway/cli/market.ts') },
  simulate: { summary: 'a simulated neighbourhood (virtual meters, real MQTT) against a real gateway', load: () => import('../simulator/cli.ts') },
  flows: { summary: 'run the Node-RED flows: market broadcasts on the grid\'s clock, and the dashboards', load: () => import('../flows/cli.ts') },
  demo: { summary: 'the gateway and a live simulated neighbourhood, in one command', load: () => import('../simulator/demo.ts') },
};
