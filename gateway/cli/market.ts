import { formatHec, formatKWh, httpToken, parseHec, parseKWh } from '../../protocol/index.ts';
import { openKey, readKeystore } from '../keystore.ts';
import { signTx, type TxFields } from '../ledger/sign.ts';
import { api, ApiError, gatewayUrl, guard, inUnits, parse, passphrase, table, UsageError } from './util.ts';
import { readerHeaders } from './credential.ts';

export const help = `
helios market — the hourly market: listings, offers, bids, history; storage and direct purchase

Usage:
  helios market status [--data DIR | --gateway URL]
      The listing accepting offers (or the one delivering now), its offers and bids,
      and the community storage.
  helios market offer [--meter ID] --kwh KWH [--reserve HEC] [--listing ID] --wallet FILE
      Prosumers: offer KWH of surplus from your meter, at no less than --reserve HEC per
      kWh (default: the storage's buy price, what unsold surplus earns in storage anyway),
      on the listing accepting offers (or --listing).
  helios market bid [--meter ID] --kwh KWH --price HEC [--listing ID] --wallet FILE
      Bid for KWH at up to --price HEC per kWh. KWH × price goes into escrow; what is
      not paid for delivered energy comes back (unused escrow at close, the rest at Settle).
  helios market cancel --offer TXID [--wallet FILE]
      Withdraw your offer or bid while its listing still accepts offers.
  helios market history [--email EMAIL [--wallet FILE]] [--limit N]
      Listings, newest first; with --email, that household's offers, trades and refunds,
      and its direct and storage purchases (private: signed with --wallet, or as the operator).
  helios market direct --seller EMAIL [--meter ID] --kwh KWH --amount HEC [--seconds S] --wallet FILE
      Pay a prosumer directly (the paper's demo): once the payment is in a block your
      meter gets credit for KWH for S seconds (default 60).
  helios market storage [--buy KWH [--meter ID] --max-price HEC --wallet FILE]
      Show the community storage; with --buy, buy stored energy as credit for your meter.
  helios market order --side sell|buy [--meter ID] --kwh KWH --price HEC [--until ISO-TIME] --wallet FILE
      A standing order, signed once: each period the gateway offers your surplus (up to
      KWH, at reserve HEC) or bids for KWH at up to HEC.
  helios market orders [--email EMAIL] [--wallet FILE]
  helios market revoke --order TXID --wallet FILE

--meter defaults to the wallet household's meter when it has exactly one.
Amounts are in kWh and HEC with up to 6 decimals. Every transaction is signed with
the wallet key (--wallet, default wallet.key; its passphrase from
HELIOS_WALLET_PASSPHRASE or asked for) and the command waits until it is in a block.
The gateway is found through DIR/run/gateway.json (--data, default ./data) or --gateway URL.
`;

interface ListingView {
  id: string; state: string; deliveryStart: number; deliveryEnd: number; closesAt: number;
  offers: number; bids: number; offeredMWh: number; bidMWh: number; tradedMWh?: number; trades?: number; clearingPriceMicroHecPerKWh?: number; late?: boolean;
  offersPosted?: OfferView[]; bidsPosted?: OfferView[];
  mine?: { offers: Array<{ id: string; side: string; energyMWh: number; priceMicroHecPerKWh: number; status: string }>; trades: TradeView[]; settlement?: { bids: Array<{ id: string; paidMicroHec: number; refundMicroHec: number; deliveredMWh: number }>; trades: Array<{ offer: string; deliveredMWh: number; paidMicroHec: number }> } };
}
interface OfferView { id: string; side: string; owner: string; meter: string; energyMWh: number; priceMicroHecPerKWh: number; status: string; order?: string; escrowMicroHec?: number }
interface TradeView { seller: string; buyer: string; energyMWh: number; priceMicroHecPerKWh: number; paymentMicroHec: number }
interface PurchaseView { id: string; kind: 'direct' | 'storage'; height: number; t: number; buyer: string; seller?: string; meter: string; energyMWh: number; amountMicroHec: number }
interface StorageView { capacityMWh: number; storedMWh: number; fundMicroHec: number; buyPriceMicroHecPerKWh: number; sellPriceMicroHecPerKWh: number }

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const price = (p: number) => `${formatHec(p).replace(' HEC', '')} HEC/kWh`;

function kwh(name: string, s: string | undefined): number {
  if (s === undefined) throw new UsageError(`--${name} is required (kWh, e.g. 1.5 or 0.000317)`);
  try {
    const v = parseKWh(s);
    if (v < 1) throw new RangeError('it must be at least 0.000001 kWh (1 mWh)');
    return v;
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

function hec(name: string, s: string | undefined, fallback?: number): number {
  if (s === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required (HEC, e.g. 0.25)`);
  }
  try {
    return parseHec(s);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

type Wallet = ReturnType<typeof openKey>;

async function openWallet(walletFile: string): Promise<Wallet> {
  const file = readKeystore(walletFile);
  return openKey(file, file.insecure ? undefined : await passphrase('HELIOS_WALLET_PASSPHRASE', `Passphrase for ${walletFile}: `));
}

/**
 * Sign with the household's wallet (as `helios wallet send`) and wait until the
 * transaction is in a block. A refusal comes back in HEC and kWh, with what to
 * change (`hints`, by error code), so the person can act on it in the flags they typed.
 */
async function send(base: string, key: Wallet, fields: TxFields, hints: Record<string, string> = {}): Promise<{ id: string; status: string; height?: number }> {
  const { nextNonce } = await api<{ nextNonce: number }>(base, 'GET', `/api/accounts/${key.keyId}/nonce`);
  const genesis = await api<{ grid: string }>(base, 'GET', '/api/genesis');
  const tx = signTx(fields, key, { grid: genesis.grid, nonce: nextNonce, t: Date.now() });
  try {
    return await api(base, 'POST', '/api/tx?wait=commit', tx);
  } catch (e) {
    if (e instanceof ApiError && hints[e.code]) throw new ApiError(e.code, `${inUnits(e.message)}. ${hints[e.code]}`, e.status);
    throw e;
  }
}

interface HouseholdView { email: string; keyId: string; role: string; meters: string[] }

/** The household a wallet key belongs to (its email, role and meters). */
async function householdOf(base: string, key: Wallet): Promise<HouseholdView> {
  // Households are private: signed as the wallet's own household, the list holds only it.
  const { grid, t } = await api<{ grid: string; t?: number }>(base, 'GET', '/api/health');
  const list = await api<HouseholdView[]>(base, 'GET', '/api/participants', undefined, { authorization: `Helios ${httpToken(key, grid, t ?? Date.now(), 60_000)}` });
  const me = list.find((p) => p.keyId === key.keyId);
  if (!me) throw new UsageError(`the wallet's key ${key.keyId} is not registered on this grid; the operator registers it with "helios participant register … --public-key ${key.publicKey}"`);
  return me;
}

/** --meter, or the household's only meter. */
async function meterFor(base: string, key: Wallet, explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  const me = await householdOf(base, key);
  if (me.meters.length === 1) return me.meters[0];
  throw new UsageError(me.meters.length === 0
    ? `--meter ID is required, and ${me.email} has no meter enrolled yet (an installer enrols one with "helios meter enroll")`
    : `--meter ID is required: ${me.email} has ${me.meters.length} meters (${me.meters.join(', ')})`);
}

/** Hints for the market's refusals, naming the flags a person changes. */
const capHint = (flag: string) => `Name a lower ${flag}: the cap is fixed when the grid is made (helios init --price-cap) and "helios market status" shows it`;
const balanceHint = (what: string) => `Top up (the operator: helios wallet mint), or ${what}; "helios wallet balance EMAIL" shows the balance`;

function done(what: string, r: { id: string; status: string; height?: number }): void {
  process.stdout.write(r.status === 'committed' ? `${what}: transaction ${r.id} is in block ${r.height}.\n` : `${what}: submitted ${r.id}; not in a block yet (status ${r.status}).\n`);
}

/** The listing named, or the one accepting offers now. */
async function listingFor(base: string, explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  const l = await api<ListingView>(base, 'GET', '/api/market/listings/current');
  if (l.state !== 'ACCEPT_OFFERS') throw new UsageError(`no listing accepts offers right now (the current one, ${l.id}, is ${l.state}); try again when the next period opens, or name one with --listing`);
  return l.id;
}

function bookTable(rows: OfferView[]): string {
  return table(['id', 'side', 'household', 'energy', 'price', 'status'], rows.map((o) => [
    o.id.slice(0, 12), o.side === 'sell' ? 'offer' : 'bid', o.owner, formatKWh(o.energyMWh), price(o.priceMicroHecPerKWh), o.status + (o.order ? ' (standing order)' : ''),
  ]));
}

export function run(argv: string[]): Promise<number> {
  return guard(help, async () => {
    const [sub, ...rest] = argv;
    const common = { data: { type: 'string', default: 'data' }, gateway: { type: 'string' } } as const;
    const signed = { ...common, wallet: { type: 'string', default: 'wallet.key' } } as const;
    const out = process.stdout;

    if (sub === 'status') {
      const { values: v } = parse(rest, common);
      const base = gatewayUrl(v.data!, v.gateway);
      const s = await api<StorageView>(base, 'GET', '/api/storage');
      let l: ListingView | undefined;
      try {
        l = await api<ListingView>(base, 'GET', '/api/market/listings/current');
      } catch (e) {
        if ((e as { code?: string }).code !== 'E_UNKNOWN_LISTING') throw e;
      }
      if (!l) out.write('No listing has been opened yet.\n');
      else {
        out.write(`Listing ${l.id}  ${l.state}${l.late ? ' (closed late: nothing traded)' : ''}\n`);
        out.write(`  delivery ${hhmm(l.deliveryStart)}–${hhmm(l.deliveryEnd)} UTC, bidding closes ${hhmm(l.closesAt)}\n`);
        out.write(`  ${l.offers} offers (${formatKWh(l.offeredMWh)}), ${l.bids} bids (${formatKWh(l.bidMWh)})`);
        if (l.tradedMWh !== undefined) out.write(`, traded ${formatKWh(l.tradedMWh)} in ${l.trades ?? 0} trades`);
        if (l.clearingPriceMicroHecPerKWh !== undefined) out.write(` at ${price(l.clearingPriceMicroHecPerKWh)}`);
        out.write('\n');
        const book = [...(l.offersPosted ?? []), ...(l.bidsPosted ?? [])];
        if (book.length) out.write(bookTable(book) + '\n');
      }
      const u = await api<{ mode: string; current?: { importMicroHecPerKWh: number; feedInMicroHecPerKWh: number }; account: { balanceMicroHec: number; importMWh: number; exportMWh: number } }>(base, 'GET', '/api/utility');
      if (u.current) {
        out.write(`Grid: ${u.mode}; utility import ${price(u.current.importMicroHecPerKWh)}, feed-in ${price(u.current.feedInMicroHecPerKWh)} this period; utility supplied ${formatKWh(u.account.importMWh)}, bought ${formatKWh(u.account.exportMWh)}\n`);
      } else out.write(`Grid: ${u.mode} (no utility connection in genesis)\n`);
      out.write(`Storage: ${formatKWh(s.storedMWh)} of ${formatKWh(s.capacityMWh)} available; buys at ${price(s.buyPriceMicroHecPerKWh)}, sells at ${price(s.sellPriceMicroHecPerKWh)}\n`);
      const g = await api<{ priceCapMicroHecPerKWh: number }>(base, 'GET', '/api/genesis');
      out.write(`Price cap: ${price(g.priceCapMicroHecPerKWh)} (no offer, bid or direct purchase above it)\n`);
      return 0;
    }

    if (sub === 'offer' || sub === 'bid') {
      const { values: v } = parse(rest, { ...signed, meter: { type: 'string' }, kwh: { type: 'string' }, reserve: { type: 'string' }, price: { type: 'string' }, listing: { type: 'string' } });
      const energyMWh = kwh('kwh', v.kwh);
      const bid = sub === 'bid' ? hec('price', v.price) : 0;
      const base = gatewayUrl(v.data!, v.gateway);
      const key = await openWallet(v.wallet!);
      const meter = await meterFor(base, key, v.meter);
      const listing = await listingFor(base, v.listing);
      if (sub === 'offer') {
        // No --reserve: the storage's buy price, what this energy earns anyway if nobody buys it (docs/market.md §9).
        const reserve = v.reserve !== undefined ? hec('reserve', v.reserve) : (await api<StorageView>(base, 'GET', '/api/storage')).buyPriceMicroHecPerKWh;
        done(`Offered ${formatKWh(energyMWh)} on ${listing} at no less than ${price(reserve)}`, await send(base, key, { type: 'PVOffer', listing, meter, energyMWh, reservePriceMicroHecPerKWh: reserve }, {
          E_PRICE_CAP: capHint('--reserve'),
        }));
      } else {
        done(`Bid for ${formatKWh(energyMWh)} on ${listing} at up to ${price(bid)}`, await send(base, key, { type: 'BuyOffer', listing, meter, energyMWh, bidPriceMicroHecPerKWh: bid }, {
          E_PRICE_CAP: capHint('--price'),
          E_INSUFFICIENT_BALANCE: balanceHint('bid for less (--kwh) or at a lower --price'),
        }));
      }
      return 0;
    }

    if (sub === 'cancel') {
      const { values: v } = parse(rest, { ...signed, offer: { type: 'string' }, listing: { type: 'string' } });
      if (!v.offer || !/^[0-9a-f]{64}$/.test(v.offer)) throw new UsageError('--offer TXID is required: the 64-hex transaction id of your offer or bid (helios market status shows the start of it)');
      const base = gatewayUrl(v.data!, v.gateway);
      let listing = v.listing;
      if (!listing) listing = (await api<{ tx: { body: { listing?: string } } }>(base, 'GET', `/api/tx/${v.offer}`)).tx?.body.listing;
      if (!listing) throw new UsageError(`transaction ${v.offer} is not a committed offer or bid; name its listing with --listing`);
      done(`Withdrew ${v.offer.slice(0, 12)} from ${listing}`, await send(base, await openWallet(v.wallet!), { type: 'CancelOffer', listing, offer: v.offer }));
      return 0;
    }

    if (sub === 'history') {
      const { values: v } = parse(rest, { ...common, email: { type: 'string' }, limit: { type: 'string', default: '24' }, wallet: { type: 'string' } });
      const limit = Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number 1…1000');
      const q = `?limit=${limit}${v.email ? `&participant=${encodeURIComponent(v.email.toLowerCase())}` : ''}`;
      const base = gatewayUrl(v.data!, v.gateway);
      // One household's part is private (its wallet or the operator); the listings alone are public.
      const headers = v.email ? await readerHeaders(base, v.data!, v.wallet) : {};
      const list = await api<ListingView[]>(base, 'GET', `/api/market/history${q}`, undefined, headers);
      const bought = v.email ? await api<PurchaseView[]>(base, 'GET', `/api/market/purchases${q}`, undefined, headers) : [];
      if (!list.length && !bought.length) {
        out.write(v.email ? `${v.email} has not taken part in any listing and has made no direct or storage purchase.\n` : 'No listings yet.\n');
        return 0;
      }
      if (list.length) {
        out.write(table(['listing', 'state', 'offers', 'bids', 'traded', 'clearing price'], list.map((l) => [
          l.id, l.state, `${l.offers} (${formatKWh(l.offeredMWh)})`, `${l.bids} (${formatKWh(l.bidMWh)})`, l.tradedMWh !== undefined ? formatKWh(l.tradedMWh) : '—',
          l.clearingPriceMicroHecPerKWh !== undefined ? price(l.clearingPriceMicroHecPerKWh) : '—',
        ])) + '\n');
      } else out.write(v.email ? `${v.email} has not taken part in any listing.\n` : 'No listings yet.\n');
      if (v.email) {
        for (const l of list) {
          if (!l.mine) continue;
          out.write(`\n${l.id}:\n`);
          for (const t of l.mine.trades) out.write(`  trade ${t.seller} → ${t.buyer}  ${formatKWh(t.energyMWh)} at ${price(t.priceMicroHecPerKWh)} = ${formatHec(t.paymentMicroHec)}\n`);
          for (const b of l.mine.settlement?.bids ?? []) out.write(`  settled bid ${b.id.slice(0, 12)}: delivered ${formatKWh(b.deliveredMWh)}, paid ${formatHec(b.paidMicroHec)}, refunded ${formatHec(b.refundMicroHec)}\n`);
          for (const t of l.mine.settlement?.trades ?? []) if (l.mine.offers.some((o) => o.id === t.offer)) out.write(`  settled offer ${t.offer.slice(0, 12)}: delivered ${formatKWh(t.deliveredMWh)}, paid ${formatHec(t.paidMicroHec)}\n`);
        }
      }
      if (bought.length) {
        out.write(`\nDirect and storage purchases${v.email ? ` of ${v.email}` : ''}, newest first:\n`);
        out.write(table(['time (UTC)', 'kind', 'buyer', 'seller', 'energy', 'paid', 'block'], bought.map((p) => [
          new Date(p.t).toISOString().slice(0, 19).replace('T', ' '), p.kind, p.buyer, p.seller ?? 'storage', formatKWh(p.energyMWh), formatHec(p.amountMicroHec), p.height,
        ])) + '\n');
      }
      return 0;
    }

    if (sub === 'direct') {
      const { values: v } = parse(rest, { ...signed, seller: { type: 'string' }, meter: { type: 'string' }, kwh: { type: 'string' }, amount: { type: 'string' }, seconds: { type: 'string', default: '60' } });
      if (!v.seller) throw new UsageError('--seller EMAIL is required (the prosumer you buy from)');
      const seconds = Number(v.seconds);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new UsageError('--seconds must be a whole number 1…86400');
      const energyMWh = kwh('kwh', v.kwh);
      const amount = hec('amount', v.amount);
      const base = gatewayUrl(v.data!, v.gateway);
      const key = await openWallet(v.wallet!);
      const meter = await meterFor(base, key, v.meter);
      // The price the two agreed, per kWh, as the cap is written (amount·10⁶ ≤ energy·cap).
      const asked = `${formatHec(amount)} for ${formatKWh(energyMWh)} is ${price(Math.ceil((amount * 1_000_000) / energyMWh))}`;
      done(`Paid ${v.seller} ${formatHec(amount)} for ${formatKWh(energyMWh)} over ${seconds} s`, await send(base, key, {
        type: 'DirectPurchase', seller: v.seller.toLowerCase(), meter, energyMWh, amountMicroHec: amount, durationMs: seconds * 1000,
      }, {
        E_PRICE_CAP: `${asked}: pay less (--amount) for the energy, or buy more energy (--kwh) for it; the cap is fixed when the grid is made (helios init --price-cap)`,
        E_INSUFFICIENT_BALANCE: balanceHint('pay less (--amount)'),
        E_OUT_OF_RANGE: 'Buy less energy (--kwh) in one purchase',
        E_WRONG_ROLE: 'Name a prosumer as --seller ("helios participant list" shows the roles)',
        E_UNKNOWN_PARTICIPANT: 'Check --seller: "helios participant list" shows the households',
      }));
      return 0;
    }

    if (sub === 'storage') {
      const { values: v } = parse(rest, { ...signed, buy: { type: 'string' }, meter: { type: 'string' }, 'max-price': { type: 'string' } });
      const base = gatewayUrl(v.data!, v.gateway);
      if (v.buy !== undefined) {
        const energyMWh = kwh('buy', v.buy);
        const max = hec('max-price', v['max-price']);
        const key = await openWallet(v.wallet!);
        const meter = await meterFor(base, key, v.meter);
        done(`Bought ${formatKWh(energyMWh)} from storage`, await send(base, key, { type: 'StoragePurchase', meter, energyMWh, maxPriceMicroHecPerKWh: max }, {
          E_PRICE_ABOVE_MAX: 'Raise --max-price to at least the storage\'s sell price, or wait',
          E_STORAGE_EMPTY: 'Buy less (--buy); "helios market storage" shows what it holds',
          E_INSUFFICIENT_BALANCE: balanceHint('buy less (--buy)'),
        }));
      }
      const s = await api<StorageView>(base, 'GET', '/api/storage');
      out.write(`Storage: ${formatKWh(s.storedMWh)} of ${formatKWh(s.capacityMWh)} available; buys at ${price(s.buyPriceMicroHecPerKWh)}, sells at ${price(s.sellPriceMicroHecPerKWh)}; fund ${formatHec(s.fundMicroHec)}\n`);
      return 0;
    }

    if (sub === 'order') {
      const { values: v } = parse(rest, { ...signed, side: { type: 'string' }, meter: { type: 'string' }, kwh: { type: 'string' }, price: { type: 'string' }, until: { type: 'string' } });
      if (v.side !== 'sell' && v.side !== 'buy') throw new UsageError('--side must be sell or buy');
      const energyMWh = kwh('kwh', v.kwh);
      const p = hec('price', v.price);
      const base = gatewayUrl(v.data!, v.gateway);
      const key = await openWallet(v.wallet!);
      const meter = await meterFor(base, key, v.meter);
      let validUntil: number | undefined;
      if (v.until !== undefined) {
        validUntil = Date.parse(v.until);
        if (!Number.isFinite(validUntil)) throw new UsageError('--until must be a date and time, e.g. 2026-12-31T23:00Z');
      }
      done(`Standing ${v.side} order for up to ${formatKWh(energyMWh)} a period at ${price(p)}`, await send(base, key, {
        type: 'StandingOrder', side: v.side, meter, energyMWh, priceMicroHecPerKWh: p, ...(validUntil !== undefined ? { validUntil } : {}),
      }, { E_PRICE_CAP: capHint('--price'), E_OUT_OF_RANGE: 'Check --until: it must be a time still to come' }));
      return 0;
    }

    if (sub === 'orders') {
      const { values: v } = parse(rest, { ...common, email: { type: 'string' }, wallet: { type: 'string' } });
      const base = gatewayUrl(v.data!, v.gateway);
      const list = await api<Array<{ id: string; owner: string; side: string; meter: string; energyMWh: number; priceMicroHecPerKWh: number; active: boolean; validUntil?: number }>>(
        base, 'GET', `/api/market/orders${v.email ? `?participant=${encodeURIComponent(v.email.toLowerCase())}` : ''}`, undefined, await readerHeaders(base, v.data!, v.wallet));
      if (!list.length) out.write('No standing orders.\n');
      else out.write(table(['order', 'household', 'side', 'meter', 'up to', 'price', 'active'], list.map((o) => [o.id, o.owner, o.side, o.meter, formatKWh(o.energyMWh), price(o.priceMicroHecPerKWh), o.active ? 'yes' : 'no'])) + '\n');
      return 0;
    }

    if (sub === 'revoke') {
      const { values: v } = parse(rest, { ...signed, order: { type: 'string' } });
      if (!v.order || !/^[0-9a-f]{64}$/.test(v.order)) throw new UsageError('--order TXID is required (helios market orders lists them)');
      done(`Revoked standing order ${v.order.slice(0, 12)}`, await send(gatewayUrl(v.data!, v.gateway), await openWallet(v.wallet!), { type: 'RevokeStandingOrder', order: v.order }));
      return 0;
    }

    throw new UsageError(sub ? `unknown market command "${sub}"` : 'say what to do: status, offer, bid, cancel, history, direct, storage, order, orders or revoke');
  });
}
