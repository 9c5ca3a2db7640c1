import { formatKWh } from '../../protocol/index.ts';
import { api, gatewayUrl, guard, parse, table, UsageError } from './util.ts';
import { operatorSecret } from './wallet.ts';
import { readerHeaders } from './credential.ts';

export const help = `
helios meter — meters on the grid, for installers and the operator

Usage:
  helios meter pending [--data DIR | --gateway URL]
      Meters that have connected and said Hello but are not enrolled yet.
  helios meter enroll --meter ID --public-key KEY --participant EMAIL --installer NAME --location TEXT
                      [--pulses-per-kwh N] [--relay yes|no] [--data DIR | --gateway URL]
      Bind a meter's key to a household (signed by the gateway's authority). The meter
      prints its id and public key on its console and sends them in its Hello.
  helios meter list [--wallet FILE] [--data DIR | --gateway URL]
  helios meter show ID [--wallet FILE] [--data DIR | --gateway URL]
      A meter's status and readings are its household's: with --wallet, signed as that
      household (list shows only its meters); otherwise as the operator.
  helios meter revoke ID --reason TEXT [--data DIR | --gateway URL]
      From then on the meter's logins and readings are refused.

Operator commands need the operator secret (HELIOS_OPERATOR_SECRET or DIR/operator.secret).
`;

interface MeterView {
  meter: string; participant: string; location: string; installer: string; pulsesPerKWh: number; relay: boolean; since: number;
  revoked?: { height: number; reason: string };
  status: { state: string; relay?: string | null; fw?: string | null; clock?: string | null; fault?: string | null; lastSeen?: number };
  lastReading: { seq: number; t: number; importMWh: number; exportMWh: number; powerW: number; relay: string; creditMWh: number; blockHeight: number | null } | null;
}

/** What a meter's Status fault means to the operator (docs/protocol.md §4, "Restore"). */
const FAULTS: Record<string, string> = {
  E_STATE_LOST: 'the meter lost its state record; it holds its relay open and waits for this gateway to restore it from its last stored reading',
  E_KEY_LOST: 'the meter lost its key and made a new one: enrol this id again (its console prints the command) and revoke the old one',
};

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const [sub, ...rest] = argv;
    const common = { data: { type: 'string', default: 'data' }, gateway: { type: 'string' } } as const;
    if (sub === 'pending') {
      const { values: v } = parse(rest, common);
      const list = await api<Array<{ meter: string; publicKey: string; fw: string; lastSeen: number }>>(gatewayUrl(v.data!, v.gateway), 'GET', '/api/meters/pending');
      if (!list.length) {
        process.stdout.write('No meters are waiting for enrolment.\n');
        return 0;
      }
      process.stdout.write(table(['meter id', 'public key', 'firmware', 'last seen'], list.map((h) => [h.meter, h.publicKey, h.fw, new Date(h.lastSeen).toISOString()])) + '\n');
      return 0;
    }
    if (sub === 'enroll' || sub === 'enrol') {
      const { values: v } = parse(rest, {
        ...common, meter: { type: 'string' }, 'public-key': { type: 'string' }, participant: { type: 'string' }, installer: { type: 'string' },
        location: { type: 'string' }, 'pulses-per-kwh': { type: 'string', default: '1000' }, relay: { type: 'string', default: 'yes' },
      });
      for (const k of ['meter', 'public-key', 'participant', 'installer', 'location'] as const) if (!v[k]) throw new UsageError(`--${k} is required`);
      if (!['yes', 'no'].includes(v.relay!)) throw new UsageError('--relay must be yes or no');
      const ppk = Number(v['pulses-per-kwh']);
      if (!Number.isInteger(ppk) || ppk < 1) throw new UsageError('--pulses-per-kwh must be a whole number (the meter plate says, e.g. 1000 imp/kWh)');
      const r = await api<{ id: string; height?: number }>(gatewayUrl(v.data!, v.gateway), 'POST', '/api/authority/tx?wait=commit', {
        type: 'EnrollMeter', meter: v.meter, publicKey: v['public-key'], participant: v.participant!.toLowerCase(), installer: v.installer,
        location: v.location, pulsesPerKWh: ppk, relay: v.relay === 'yes',
      }, { authorization: `Bearer ${operatorSecret(v.data!)}` });
      process.stdout.write(`Enrolled meter ${v.meter} for ${v.participant}: transaction ${r.id}${r.height ? ` in block ${r.height}` : ''}.\nThe meter receives its enrolment certificate on its next connection.\n`);
      return 0;
    }
    if (sub === 'list') {
      const { values: v } = parse(rest, { ...common, wallet: { type: 'string' } });
      const base = gatewayUrl(v.data!, v.gateway);
      const list = await api<MeterView[]>(base, 'GET', '/api/meters', undefined, await readerHeaders(base, v.data!, v.wallet));
      process.stdout.write(table(['meter', 'household', 'state', 'relay', 'import', 'export', 'last reading'], list.map((m) => [
        m.meter.slice(0, 12) + '…', m.participant, m.revoked ? 'REVOKED' : m.status.fault ? `${m.status.state} ${m.status.fault}` : m.status.state, m.lastReading?.relay ?? '-',
        m.lastReading ? formatKWh(m.lastReading.importMWh) : '-', m.lastReading ? formatKWh(m.lastReading.exportMWh) : '-',
        m.lastReading ? new Date(m.lastReading.t).toISOString() : '-',
      ])) + '\n');
      return 0;
    }
    if (sub === 'show') {
      const { values: v, positionals } = parse(rest, { ...common, wallet: { type: 'string' } }, true);
      if (!positionals[0]) throw new UsageError('give the meter id');
      const base = gatewayUrl(v.data!, v.gateway);
      const m = await api<MeterView & { readings: number; gaps: unknown[]; credits: Array<{ energyMWh: number; validFrom: number; validUntil: number; ref: string }> }>(
        base, 'GET', `/api/meters/${positionals[0]}`, undefined, await readerHeaders(base, v.data!, v.wallet));
      const r = m.lastReading;
      process.stdout.write([
        `meter ${m.meter}${m.revoked ? `  REVOKED at block ${m.revoked.height}: ${m.revoked.reason}` : ''}`,
        `  household  ${m.participant}`,
        `  location   ${m.location}   (installed by ${m.installer}, ${m.pulsesPerKWh} imp/kWh, relay ${m.relay ? 'yes' : 'no'})`,
        `  status     ${m.status.state}${m.status.fw ? `, firmware ${m.status.fw}` : ''}${m.status.clock ? `, clock ${m.status.clock}` : ''}`,
        ...(m.status.fault ? [`  fault      ${m.status.fault}: ${FAULTS[m.status.fault] ?? 'see docs/protocol.md §9'}`] : []),
        r ? `  last       #${r.seq} at ${new Date(r.t).toISOString()}: import ${formatKWh(r.importMWh)}, export ${formatKWh(r.exportMWh)}, ${r.powerW} W, relay ${r.relay}, credit ${formatKWh(r.creditMWh)}${r.blockHeight ? `, in block ${r.blockHeight}` : ', not in a block yet'}` : '  last       (no readings yet)',
        `  readings   ${m.readings} stored, ${m.gaps.length} gaps`,
        ...m.credits.slice(0, 5).map((c) => `  credit     ${formatKWh(c.energyMWh)} valid ${new Date(c.validFrom).toISOString()} → ${new Date(c.validUntil).toISOString()} (${c.ref})`),
      ].join('\n') + '\n');
      return 0;
    }
    if (sub === 'revoke') {
      const { values: v, positionals } = parse(rest, { ...common, reason: { type: 'string' } }, true);
      if (!positionals[0]) throw new UsageError('give the meter id');
      if (!v.reason) throw new UsageError('--reason is required (it is recorded on the ledger)');
      const r = await api<{ id: string; height?: number }>(gatewayUrl(v.data!, v.gateway), 'POST', '/api/authority/tx?wait=commit',
        { type: 'RevokeMeter', meter: positionals[0], reason: v.reason }, { authorization: `Bearer ${operatorSecret(v.data!)}` });
      process.stdout.write(`Revoked meter ${positionals[0]}: transaction ${r.id}${r.height ? ` in block ${r.height}` : ''}.\n`);
      return 0;
    }
    throw new UsageError(sub ? `unknown meter command "${sub}"` : 'say what to do: pending, enroll, list, show or revoke');
  });
}
