/**
 * A small structured logger: one JSON object per line on stderr (or a readable line
 * when stderr is a terminal). Every refusal is logged with its code; `counts` keeps
 * how many of each, for /metrics and summaries.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(opts: { level?: Level; pretty?: boolean; write?: (line: string) => void; base?: Record<string, unknown> } = {}): Logger {
  const level = opts.level ?? ((process.env.HELIOS_LOG_LEVEL as Level | undefined) ?? 'info');
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const rec = { t: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    if (pretty) {
      const extra = Object.entries({ ...base, ...fields }).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      write(`${rec.t.slice(11, 19)} ${lvl.toUpperCase().padEnd(5)} ${msg}${extra ? '  ' + extra : ''}`);
    } else {
      write(JSON.stringify(rec));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger({ level, pretty, write, base: { ...base, ...f } }),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });
