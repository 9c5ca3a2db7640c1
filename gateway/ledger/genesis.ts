/** The genesis state and hash: what every chain of a grid starts from. */
import { fail, keyIdOf, type Genesis } from '../../protocol/index.ts';
import { hashJson } from '../crypto/hash.ts';
import { keys, type AuthorityEntry, type ParticipantEntry, type SupplyEntry } from './entities.ts';
import { Draft, State } from './state.ts';
import { checkTariff } from '../market/tariff.ts';

export function genesisHash(genesis: Genesis): string {
  return hashJson(genesis);
}

/** Checks a genesis beyond its schema: consistent keys, known recipients, no duplicate ids. */
export function checkGenesis(g: Genesis): void {
  const seen = new Set<string>();
  for (const [i, a] of g.authorities.entries()) {
    if (keyIdOf(a.publicKey) !== a.keyId) fail('E_BAD_KEY', `authorities[${i}].keyId is not the key id of its public key`, `authorities[${i}].keyId`);
    if (seen.has(a.keyId)) fail('E_KEY_IN_USE', `authority key ${a.keyId} is listed twice`, `authorities[${i}]`);
    seen.add(a.keyId);
  }
  const emails = new Set<string>();
  for (const [i, p] of g.participants.entries()) {
    const id = keyIdOf(p.publicKey);
    if (seen.has(id)) fail('E_KEY_IN_USE', `participants[${i}] uses a key already in genesis`, `participants[${i}].publicKey`);
    if (emails.has(p.email)) fail('E_PARTICIPANT_EXISTS', `${p.email} is listed twice`, `participants[${i}].email`);
    seen.add(id);
    emails.add(p.email);
  }
  if (g.utility) checkTariff(g.utility.tariff, 'utility.tariff');
  let total = 0;
  for (const [i, a] of g.allocations.entries()) {
    if (!emails.has(a.to)) fail('E_UNKNOWN_PARTICIPANT', `allocation to ${a.to}, who is not among the genesis participants`, `allocations[${i}].to`);
    total += a.amountMicroHec;
    if (!Number.isSafeInteger(total)) fail('E_OUT_OF_RANGE', 'genesis allocations exceed 2^53−1 µHEC', `allocations[${i}]`);
  }
}

export function genesisState(g: Genesis): State {
  checkGenesis(g);
  const d = new Draft(new State());
  for (const a of g.authorities) {
    const entry: AuthorityEntry = { keyId: a.keyId, name: a.name, publicKey: a.publicKey, nonce: 0 };
    d.set(keys.authority(a.keyId), entry);
    d.set(keys.key(a.keyId), { authority: true });
  }
  const balances = new Map<string, number>();
  for (const a of g.allocations) balances.set(a.to, (balances.get(a.to) ?? 0) + a.amountMicroHec);
  let minted = 0;
  for (const p of g.participants) {
    const keyId = keyIdOf(p.publicKey);
    const balance = balances.get(p.email) ?? 0;
    minted += balance;
    const entry: ParticipantEntry = {
      name: p.name, email: p.email, role: p.role, publicKey: p.publicKey, keyId,
      balanceMicroHec: balance, escrowMicroHec: 0, nonce: 0, meters: [], since: 0,
    };
    d.set(keys.participant(p.email), entry);
    d.set(keys.key(keyId), { participant: p.email });
  }
  const supply: SupplyEntry = { mintedMicroHec: minted };
  d.set(keys.supply, supply);
  const s = new State();
  s.apply(d.changes);
  return s;
}
