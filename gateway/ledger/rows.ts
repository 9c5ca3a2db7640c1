/**
 * Stored rows against the signed bytes they were derived from. SQLite keeps some
 * figures twice for its indexes: a block's slot, time, author and counts beside its
 * signed header; a transaction's type and signer beside its signed body; a reading's
 * meter, sequence, time and registers beside the meter's signed envelope (generated
 * columns since schema 3); a credit token's figures beside the authority's signed
 * token. Whoever holds the file can rebuild a table and change a copy while the
 * signed bytes stay intact, so `helios ledger verify` compares every copy with the
 * bytes it came from and names the first row that differs (issue 13, finding 6).
 *
 * Pure: rows in, a description of the first difference (or undefined) out.
 */
import { CreditTokenBody, parseJson, ReadingBody, signed, type BlockHeader, type CreditTokenBody as CreditBody, type ReadingBody as Reading, type Signed } from '../../protocol/index.ts';

export interface BlockColumns {
  height: number;
  slot: number;
  t: number;
  author: string;
  tx_count: number;
  readings_count: number;
}

/** The first column of a blocks row that is not what its header says. */
export function blockRowProblem(row: BlockColumns, header: BlockHeader): string | undefined {
  const want: Record<keyof BlockColumns, unknown> = {
    height: header.height, slot: header.slot, t: header.t, author: header.author, tx_count: header.txCount, readings_count: header.readingsCount,
  };
  for (const k of Object.keys(want) as Array<keyof BlockColumns>) {
    if (row[k] !== want[k]) return `blocks row ${header.height}: column ${k} is ${JSON.stringify(row[k])} but the signed header says ${JSON.stringify(want[k])}; the row was edited`;
  }
  return undefined;
}

export interface TxColumns {
  id: string;
  idx: number;
  type: string;
  signer: string;
}

/** The first column of a block's transaction rows that is not what the signed body says (indexes run 0, 1, 2 …). */
export function txRowsProblem(height: number, rows: TxColumns[], bodies: Array<{ type: string; signer: string }>): string | undefined {
  for (const [i, r] of rows.entries()) {
    const name = `txs row ${r.id.slice(0, 16)}… (block ${height}, index ${i})`;
    if (r.idx !== i) return `${name}: column idx is ${r.idx}, but it is transaction ${i} of its block; the row was edited`;
    if (r.type !== bodies[i].type) return `${name}: column type is ${JSON.stringify(r.type)} but the signed body is a ${bodies[i].type}; the row was edited`;
    if (r.signer !== bodies[i].signer) return `${name}: column signer is ${JSON.stringify(r.signer)} but the body is signed by ${bodies[i].signer}; the row was edited`;
  }
  return undefined;
}

export interface ReadingColumns {
  id: number;
  meter: string;
  seq: number;
  t: number;
  import_mwh: number;
  export_mwh: number;
  power_w: number;
  relay: string;
  credit_mwh: number;
  envelope: string;
}

const SignedReading = signed(ReadingBody);
const SignedCredit = signed(CreditTokenBody);

/** Parse a stored reading envelope strictly; returns the signed reading or a problem. */
export function parseReading(row: Pick<ReadingColumns, 'id' | 'envelope'>): Signed<Reading> | string {
  try {
    return SignedReading.parse(parseJson(row.envelope), 'envelope') as Signed<Reading>;
  } catch (e) {
    return `readings row id ${row.id}: its envelope is not a valid signed reading (${(e as Error).message}); the row was edited`;
  }
}

/** The first column of a readings row that differs from its signed envelope. */
export function readingRowProblem(row: ReadingColumns, grid: string): string | undefined {
  const r = parseReading(row);
  if (typeof r === 'string') return r;
  const b = r.body;
  const name = `readings row id ${row.id} (meter ${b.meter}, seq ${b.seq})`;
  if (b.grid !== grid) return `${name}: the envelope is for grid ${JSON.stringify(b.grid)}, not ${JSON.stringify(grid)}`;
  const want: Array<[keyof ReadingColumns, unknown]> = [
    ['meter', b.meter], ['seq', b.seq], ['t', b.t], ['import_mwh', b.importMWh], ['export_mwh', b.exportMWh],
    ['power_w', b.powerW], ['relay', b.relay], ['credit_mwh', b.creditMWh],
  ];
  for (const [k, v] of want) {
    if (row[k] !== v) return `${name}: column ${k} is ${JSON.stringify(row[k])} but the meter signed ${JSON.stringify(v)}; the row was edited`;
  }
  return undefined;
}

export interface CreditColumns {
  nonce: string;
  meter: string;
  energy_mwh: number;
  valid_from: number;
  valid_until: number;
  ref: string | null;
  token: string;
}

/** A credit row against its authority-signed token; `verify` checks the token's signature with the issuer's key. */
export function creditRowProblem(row: CreditColumns, grid: string, verify: (token: Signed<CreditBody>) => boolean): string | undefined {
  const name = `credits row nonce ${row.nonce}`;
  let tok: Signed<CreditBody>;
  try {
    tok = SignedCredit.parse(parseJson(row.token), 'token') as Signed<CreditBody>;
  } catch (e) {
    return `${name}: its token is not a valid signed credit token (${(e as Error).message}); the row was edited`;
  }
  const b = tok.body;
  if (b.grid !== grid) return `${name}: the token is for grid ${JSON.stringify(b.grid)}, not ${JSON.stringify(grid)}`;
  if (!verify(tok)) return `${name}: the token's signature does not verify with authority ${b.issuer}'s key; the token was edited`;
  const want: Array<[keyof CreditColumns, unknown]> = [
    ['nonce', b.nonce], ['meter', b.meter], ['energy_mwh', b.energyMWh], ['valid_from', b.validFrom], ['valid_until', b.validUntil], ['ref', b.ref ?? null],
  ];
  for (const [k, v] of want) {
    if (row[k] !== v) return `${name}: column ${k} is ${JSON.stringify(row[k])} but the signed token says ${JSON.stringify(v)}; the row was edited`;
  }
  return undefined;
}
