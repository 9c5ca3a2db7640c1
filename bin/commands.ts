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

export const commands: Record<string, CommandEntry> = {};
