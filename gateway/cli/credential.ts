/**
 * The credential a CLI command shows for a household's private data (docs/api.md,
 * "Who may read what"): with --wallet FILE, a short-lived token signed with that
 * wallet key (Authorization: Helios …); otherwise the operator secret
 * (HELIOS_OPERATOR_SECRET or DIR/operator.secret).
 */
import { existsSync } from 'node:fs';
import { httpToken } from '../../protocol/index.ts';
import { dataPaths } from '../config.ts';
import { openKey, readKeystore } from '../keystore.ts';
import { api, passphrase, UsageError } from './util.ts';
import { operatorSecret } from './wallet.ts';

export async function readerHeaders(base: string, dataDir: string, wallet?: string): Promise<Record<string, string>> {
  if (wallet) {
    if (!existsSync(wallet)) throw new UsageError(`no wallet file ${wallet}`);
    const file = readKeystore(wallet);
    const key = openKey(file, file.insecure ? undefined : await passphrase('HELIOS_WALLET_PASSPHRASE', `Passphrase for ${wallet}: `));
    // The window is checked against the gateway's clock, which may run ahead of this one (a demo at --speed 60).
    const { grid, t } = await api<{ grid: string; t?: number }>(base, 'GET', '/api/health');
    return { authorization: `Helios ${httpToken(key, grid, t ?? Date.now(), 5 * 60_000)}` };
  }
  if (!process.env.HELIOS_OPERATOR_SECRET && !existsSync(dataPaths(dataDir).operatorSecret)) {
    throw new UsageError(`this is a household's private data: give --wallet FILE (the household's wallet key), or run it as the operator (HELIOS_OPERATOR_SECRET or ${dataPaths(dataDir).operatorSecret})`);
  }
  return { authorization: `Bearer ${operatorSecret(dataDir)}` };
}
