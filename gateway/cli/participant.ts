import { formatHec } from '../../protocol/index.ts';
import { api, gatewayUrl, guard, parse, table, UsageError } from './util.ts';
import { operatorSecret } from './wallet.ts';
import { readerHeaders } from './credential.ts';
import { readKeystore } from '../keystore.ts';

export const help = `
helios participant — households on the grid (the paper's Certificate Authority)

Usage:
  helios participant register --name NAME --email EMAIL --role prosumer|consumer --public-key KEY [--data DIR | --gateway URL]
      Operator: admit a household with its wallet's public key (from "helios wallet new").
      --wallet FILE instead of --public-key takes the public key from the household's wallet file.
  helios participant list [--wallet FILE] [--data DIR | --gateway URL]
  helios participant show EMAIL [--wallet FILE] [--data DIR | --gateway URL]
      Balances and emails are private: with --wallet, signed as that household (list
      shows only it); otherwise as the operator (HELIOS_OPERATOR_SECRET or DIR/operator.secret).
`;

interface ParticipantView {
  name: string; email: string; role: string; keyId: string; balanceMicroHec: number; escrowMicroHec: number; nonce: number; meters: string[];
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const [sub, ...rest] = argv;
    const common = { data: { type: 'string', default: 'data' }, gateway: { type: 'string' } } as const;
    if (sub === 'register') {
      const { values: v } = parse(rest, { ...common, name: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, 'public-key': { type: 'string' }, wallet: { type: 'string' } });
      if (v.wallet && !v['public-key']) v['public-key'] = readKeystore(v.wallet).publicKey;
      for (const k of ['name', 'email', 'role'] as const) if (!v[k]) throw new UsageError(`--${k} is required`);
      if (!v['public-key']) throw new UsageError('--public-key KEY (from the household\'s "helios wallet new") or --wallet FILE is required');
      if (v.role !== 'prosumer' && v.role !== 'consumer') throw new UsageError(`--role must be prosumer (has solar to sell) or consumer, got ${v.role}`);
      const r = await api<{ id: string; status: string; height?: number }>(gatewayUrl(v.data!, v.gateway), 'POST', '/api/authority/tx?wait=commit',
        { type: 'RegisterParticipant', name: v.name, email: v.email!.toLowerCase(), role: v.role, publicKey: v['public-key'] },
        { authorization: `Bearer ${operatorSecret(v.data!)}` });
      process.stdout.write(`Registered ${v.email} as a ${v.role}: transaction ${r.id}${r.height ? ` in block ${r.height}` : ''}.\n`);
      return 0;
    }
    if (sub === 'list') {
      const { values: v } = parse(rest, { ...common, wallet: { type: 'string' } });
      const base = gatewayUrl(v.data!, v.gateway);
      const list = await api<ParticipantView[]>(base, 'GET', '/api/participants', undefined, await readerHeaders(base, v.data!, v.wallet));
      process.stdout.write(table(['email', 'name', 'role', 'balance', 'escrow', 'meters'],
        list.map((p) => [p.email, p.name, p.role, formatHec(p.balanceMicroHec), formatHec(p.escrowMicroHec), p.meters.length])) + '\n');
      return 0;
    }
    if (sub === 'show') {
      const { values: v, positionals } = parse(rest, { ...common, wallet: { type: 'string' } }, true);
      if (!positionals[0]) throw new UsageError('give the household email');
      const base = gatewayUrl(v.data!, v.gateway);
      const p = await api<ParticipantView>(base, 'GET', `/api/participants/${encodeURIComponent(positionals[0].toLowerCase())}`, undefined, await readerHeaders(base, v.data!, v.wallet));
      process.stdout.write([
        `${p.name} <${p.email}>  ${p.role}`,
        `  key id   ${p.keyId}`,
        `  balance  ${formatHec(p.balanceMicroHec)}`,
        `  escrow   ${formatHec(p.escrowMicroHec)}`,
        `  nonce    ${p.nonce}`,
        `  meters   ${p.meters.length ? p.meters.join(', ') : '(none)'}`,
      ].join('\n') + '\n');
      return 0;
    }
    throw new UsageError(sub ? `unknown participant command "${sub}"` : 'say what to do: register, list or show');
  });
}
