import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { formatHec, generateKeyPair, httpToken, parseHec } from '../../protocol/index.ts';
import { dataPaths } from '../config.ts';
import { insecureKey, openKey, readKeystore, sealKey, writeKeystore } from '../keystore.ts';
import { signTx } from '../ledger/sign.ts';
import { api, ApiError, gatewayUrl, guard, parse, passphrase, UsageError } from './util.ts';

export const help = `
helios wallet — a household's key and tokens

Usage:
  helios wallet new [--out FILE] [--label TEXT] [--insecure]
      Make a wallet key (P-256), encrypted with HELIOS_WALLET_PASSPHRASE or a passphrase
      you are asked for. Prints the public key to give the operator for registration.
  helios wallet token --wallet FILE [--minutes N] [--data DIR | --gateway URL]
      Print an Authorization header value for the household's private reads over HTTP
      (a Login signed with the wallet key, valid N minutes by the gateway's clock, at most 15).
  helios wallet balance EMAIL [--wallet FILE] [--data DIR | --gateway URL]
      A balance is private: signed with the household's --wallet key, or as the operator.
  helios wallet send --to EMAIL --amount HEC --wallet FILE [--memo TEXT] [--data DIR | --gateway URL]
      Sign a Transfer with the wallet key and wait until it is in a block.
  helios wallet mint --to EMAIL --amount HEC [--memo TEXT] [--data DIR | --gateway URL]
      Operator: top up a household (e.g. paid in cash). Signed by the gateway's authority;
      needs the operator secret (HELIOS_OPERATOR_SECRET or DIR/operator.secret).
`;

export function operatorSecret(dataDir: string): string {
  const env = process.env.HELIOS_OPERATOR_SECRET;
  if (env) return env;
  const f = dataPaths(dataDir).operatorSecret;
  if (existsSync(f)) return readFileSync(f, 'utf8').trim();
  throw new UsageError(`the operator secret is needed: set HELIOS_OPERATOR_SECRET or keep it in ${f}`);
}

function hec(s: string | undefined): number {
  if (s === undefined) throw new UsageError('--amount is required (in HEC, e.g. 3 or 2.5)');
  try {
    const v = parseHec(s);
    if (v <= 0) throw new RangeError('the amount must be more than 0');
    return v;
  } catch (e) {
    throw new UsageError(`--amount: ${(e as Error).message}`);
  }
}

/** A refusal, with the flag that changes it (the figures become HEC in guard()). */
async function hinted<T>(call: Promise<T>, hints: Record<string, string>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof ApiError && hints[e.code]) throw new ApiError(e.code, `${e.message}. ${hints[e.code]}`, e.status);
    throw e;
  }
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const [sub, ...rest] = argv;
    const common = { data: { type: 'string', default: 'data' }, gateway: { type: 'string' } } as const;
    if (sub === 'new') {
      const { values: v } = parse(rest, { out: { type: 'string', default: 'wallet.key' }, label: { type: 'string', default: 'wallet' }, insecure: { type: 'boolean', default: false } });
      if (existsSync(v.out!)) throw new UsageError(`${v.out} already exists; choose another --out`);
      const key = generateKeyPair((n) => new Uint8Array(randomBytes(n)));
      const file = v.insecure ? insecureKey(key, v.label!) : sealKey(key, await passphrase('HELIOS_WALLET_PASSPHRASE', 'Passphrase for the new wallet: ', true), v.label!);
      writeKeystore(v.out!, file);
      process.stdout.write(`Wallet written to ${v.out}\n  key id      ${key.keyId}\n  public key  ${key.publicKey}\n`);
      process.stdout.write(`Ask the grid operator to register you:\n  helios participant register --name "<your name>" --email <you@example.org> --role prosumer|consumer --public-key ${key.publicKey}\n`);
      return 0;
    }
    if (sub === 'token') {
      const { values: v } = parse(rest, { ...common, wallet: { type: 'string', default: 'wallet.key' }, minutes: { type: 'string', default: '15' } });
      const minutes = Number(v.minutes);
      if (!(minutes > 0 && minutes <= 15)) throw new UsageError('--minutes must be more than 0 and at most 15');
      const file = readKeystore(v.wallet!);
      const key = openKey(file, file.insecure ? undefined : await passphrase('HELIOS_WALLET_PASSPHRASE', `Passphrase for ${v.wallet}: `));
      const { grid, t } = await api<{ grid: string; t?: number }>(gatewayUrl(v.data!, v.gateway), 'GET', '/api/health');
      process.stdout.write(`Helios ${httpToken(key, grid, t ?? Date.now(), minutes * 60_000)}\n`);
      return 0;
    }
    if (sub === 'balance') {
      const { values: v, positionals } = parse(rest, { ...common, wallet: { type: 'string' } }, true);
      if (!positionals[0]) throw new UsageError('give the household email: helios wallet balance EMAIL');
      const base = gatewayUrl(v.data!, v.gateway);
      const { readerHeaders } = await import('./credential.ts');
      const p = await api<{ email: string; name: string; balanceMicroHec: number; escrowMicroHec: number; nonce: number }>(
        base, 'GET', `/api/participants/${encodeURIComponent(positionals[0].toLowerCase())}`, undefined, await readerHeaders(base, v.data!, v.wallet));
      process.stdout.write(`${p.name} <${p.email}>\n  balance  ${formatHec(p.balanceMicroHec)}\n  escrow   ${formatHec(p.escrowMicroHec)}  (held for open bids)\n`);
      return 0;
    }
    if (sub === 'send') {
      const { values: v } = parse(rest, { ...common, to: { type: 'string' }, amount: { type: 'string' }, wallet: { type: 'string', default: 'wallet.key' }, memo: { type: 'string' } });
      if (!v.to) throw new UsageError('--to EMAIL is required');
      const amount = hec(v.amount);
      const file = readKeystore(v.wallet!);
      const key = openKey(file, file.insecure ? undefined : await passphrase('HELIOS_WALLET_PASSPHRASE', `Passphrase for ${v.wallet}: `));
      const base = gatewayUrl(v.data!, v.gateway);
      const { nextNonce } = await api<{ nextNonce: number }>(base, 'GET', `/api/accounts/${key.keyId}/nonce`);
      const genesis = await api<{ grid: string }>(base, 'GET', '/api/genesis');
      const tx = signTx({ type: 'Transfer', to: v.to.toLowerCase(), amountMicroHec: amount, ...(v.memo ? { memo: v.memo } : {}) }, key, { grid: genesis.grid, nonce: nextNonce, t: Date.now() });
      const r = await hinted(api<{ id: string; status: string; height?: number }>(base, 'POST', '/api/tx?wait=commit', tx), {
        E_INSUFFICIENT_BALANCE: 'Send less (--amount)',
        E_UNKNOWN_PARTICIPANT: 'Check --to: "helios participant list" shows the households',
      });
      process.stdout.write(r.status === 'committed' ? `Sent ${formatHec(amount)} to ${v.to}: transaction ${r.id} is in block ${r.height}.\n` : `Submitted ${r.id}; not in a block yet (status ${r.status}).\n`);
      return 0;
    }
    if (sub === 'mint') {
      const { values: v } = parse(rest, { ...common, to: { type: 'string' }, amount: { type: 'string' }, memo: { type: 'string' } });
      if (!v.to) throw new UsageError('--to EMAIL is required');
      const amount = hec(v.amount);
      const r = await hinted(api<{ id: string; status: string; height?: number }>(gatewayUrl(v.data!, v.gateway), 'POST', '/api/authority/tx?wait=commit',
        { type: 'Mint', to: v.to.toLowerCase(), amountMicroHec: amount, ...(v.memo ? { memo: v.memo } : {}) },
        { authorization: `Bearer ${operatorSecret(v.data!)}` }), {
        E_MINT_LIMIT: 'Mint less (--amount), in several Mints if need be; the limit is the grid\'s (helios init --max-mint)',
        E_UNKNOWN_PARTICIPANT: 'Check --to: a registered household\'s email ("helios participant list"), or "storage"',
      });
      process.stdout.write(`Minted ${formatHec(amount)} to ${v.to}: transaction ${r.id}${r.height ? ` in block ${r.height}` : ` (${r.status})`}.\n`);
      return 0;
    }
    throw new UsageError(sub ? `unknown wallet command "${sub}"` : 'say what to do: new, token, balance, send or mint');
  });
}
