import { formatHec, formatKWh, parseHec, parseKWh } from '../../protocol/index.ts';
import { openKey, readKeystore } from '../keystore.ts';
import { signTx, type TxFields } from '../ledger/sign.ts';
import { api, gatewayUrl, guard, parse, passphrase, table, UsageError } from './util.ts';

export const help = `
helios market — the hourly market: listings, offers, bids, history; storage and direct purchase

Usage:
  helios market status [--data DIR | --gateway URL]
      The listing accepting offers (or the one delivering now), its offers and bids,
      and the community storage.
  helios market offer --meter ID --kwh KWH [--reserve HEC] [--listing ID] --wallet FILE
      Prosumers: offer KWH of surplus from your meter, at no less than --reserve HEC per
      kWh (default 0), on the listing accepting offers (or --listing).
  helios market bid --meter ID --kwh KWH --price HEC [--listing ID] --wallet FILE
      Bid for KWH at up to --price HEC per kWh. KWH × price goes into escrow; what is
      not paid for delivered energy comes back (unused escrow at close, the rest at Settle).
  helios market cancel --offer TXID [--wallet FILE]
      Withdraw your offer or bid while its listing still accepts offers.
  helios market history [--email EMAIL] [--limit N]
      Listings, newest first; with --email, that household's offers, trades and refunds.
  helios market direct --seller EMAIL --meter ID --kwh KWH --amount HEC [--seconds S] --wallet FILE
      Pay a prosumer directly (the paper's demo): once the payment is in a block your
      meter gets credit for KWH for S seconds (default 60).
  helios market storage [--buy KWH --meter ID --max-price HEC --wallet FILE]
      Show the community storage; with --buy, buy stored energy as credit for your meter.
  helios market order --side sell|buy --meter ID --kwh KWH --price HEC [--until ISO-TIME] --wallet FILE
      A standing order, signed once: each period the gateway offers your surplus (up to
      KWH, at reserve HEC) or bids for KWH at up to HEC.
  helios market orders [--email EMAIL]
  helios market revoke --order TXID --wallet FILE

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

/** Sign with the household's wallet (as `helios wallet send`) and wait until the transaction is in a block. */
async function send(base: string, walletFile: string, fields: TxFields): Promise<{ id: string; status: string; height?: number }> {
  const file = readKeystore(walletFile);
  const key = openKey(file, file.insecure ? undefined : await passphrase('HELIOS_WALLET_PASSPHRASE', `Passphrase for ${walletFile}: `));
  const { nextNonce } = await api<{ nextNonce: number }>(base, 'GET', `/api/accounts/${key.keyId}/nonce`);
  const genesis = await api<{ grid: string }>(base, 'GET', '/api/genesis');
  const tx = signTx(fields, key, { grid: genesis.grid, nonce: nextNonce, t: Date.now() });
  return api(base, 'POST', '/api/tx?wait=commit', tx);
}

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
      return 0;
    }

    if (sub === 'offer' || sub === 'bid') {
      const { values: v } = parse(rest, { ...signed, meter: { type: 'string' }, kwh: { type: 'string' }, reserve: { type: 'string' }, price: { type: 'string' }, listing: { type: 'string' } });
      if (!v.meter) throw new UsageError('--meter ID is required (your meter\'s id: helios meter list)');
      const energyMWh = kwh('kwh', v.kwh);
      const base = gatewayUrl(v.data!, v.gateway);
      const listing = await listingFor(base, v.listing);
      if (sub === 'offer') {
        const reserve = hec('reserve', v.reserve, 0);
        done(`Offered ${formatKWh(energyMWh)} on ${listing} at no less than ${price(reserve)}`, await send(base, v.wallet!, { type: 'PVOffer', listing, meter: v.meter, energyMWh, reservePriceMicroHecPerKWh: reserve }));
      } else {
        const bid = hec('price', v.price);
        done(`Bid for ${formatKWh(energyMWh)} on ${listing} at up to ${price(bid)}`, await send(base, v.wallet!, { type: 'BuyOffer', listing, meter: v.meter, energyMWh, bidPriceMicroHecPerKWh: bid }));
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
      done(`Withdrew ${v.offer.slice(0, 12)} from ${listing}`, await send(base, v.wallet!, { type: 'CancelOffer', listing, offer: v.offer }));
      return 0;
    }

    if (sub === 'history') {
      const { values: v } = parse(rest, { ...common, email: { type: 'string' }, limit: { type: 'string', default: '24' } });
      const limit = Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number 1…1000');
      const q = `?limit=${limit}${v.email ? `&participant=${encodeURIComponent(v.email.toLowerCase())}` : ''}`;
      const list = await api<ListingView[]>(gatewayUrl(v.data!, v.gateway), 'GET', `/api/market/history${q}`);
      if (!list.length) {
        out.write(v.email ? `${v.email} has not taken part in any listing.\n` : 'No listings yet.\n');
        return 0;
      }
      out.write(table(['listing', 'state', 'offers', 'bids', 'traded', 'clearing price'], list.map((l) => [
        l.id, l.state, `${l.offers} (${formatKWh(l.offeredMWh)})`, `${l.bids} (${formatKWh(l.bidMWh)})`, l.tradedMWh !== undefined ? formatKWh(l.tradedMWh) : '—',
        l.clearingPriceMicroHecPerKWh !== undefined ? price(l.clearingPriceMicroHecPerKWh) : '—',
      ])) + '\n');
      if (v.email) {
        for (const l of list) {
          if (!l.mine) continue;
          out.write(`\n${l.id}:\n`);
          for (const t of l.mine.trades) out.write(`  trade ${t.seller} → ${t.buyer}  ${formatKWh(t.energyMWh)} at ${price(t.priceMicroHecPerKWh)} = ${formatHec(t.paymentMicroHec)}\n`);
          for (const b of l.mine.settlement?.bids ?? []) out.write(`  settled bid ${b.id.slice(0, 12)}: delivered ${formatKWh(b.deliveredMWh)}, paid ${formatHec(b.paidMicroHec)}, refunded ${formatHec(b.refundMicroHec)}\n`);
          for (const t of l.mine.settlement?.trades ?? []) if (l.mine.offers.some((o) => o.id === t.offer)) out.write(`  settled offer ${t.offer.slice(0, 12)}: delivered ${formatKWh(t.deliveredMWh)}, paid ${formatHec(t.paidMicroHec)}\n`);
        }
      }
      return 0;
    }

    if (sub === 'direct') {
      const { values: v } = parse(rest, { ...signed, seller: { type: 'string' }, meter: { type: 'string' }, kwh: { type: 'string' }, amount: { type: 'string' }, seconds: { type: 'string', default: '60' } });
      if (!v.seller) throw new UsageError('--seller EMAIL is required (the prosumer you buy from)');
      if (!v.meter) throw new UsageError('--meter ID is required (the meter that gets the credit)');
      const seconds = Number(v.seconds);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new UsageError('--seconds must be a whole number 1…86400');
      const energyMWh = kwh('kwh', v.kwh);
      const amount = hec('amount', v.amount);
      done(`Paid ${v.seller} ${formatHec(amount)} for ${formatKWh(energyMWh)} over ${seconds} s`, await send(gatewayUrl(v.data!, v.gateway), v.wallet!, {
        type: 'DirectPurchase', seller: v.seller.toLowerCase(), meter: v.meter, energyMWh, amountMicroHec: amount, durationMs: seconds * 1000,
      }));
      return 0;
    }

    if (sub === 'storage') {
      const { values: v } = parse(rest, { ...signed, buy: { type: 'string' }, meter: { type: 'string' }, 'max-price': { type: 'string' } });
      const base = gatewayUrl(v.data!, v.gateway);
      if (v.buy !== undefined) {
        if (!v.meter) throw new UsageError('--meter ID is required with --buy');
        const energyMWh = kwh('buy', v.buy);
        const max = hec('max-price', v['max-price']);
        done(`Bought ${formatKWh(energyMWh)} from storage`, await send(base, v.wallet!, { type: 'StoragePurchase', meter: v.meter, energyMWh, maxPriceMicroHecPerKWh: max }));
      }
      const s = await api<StorageView>(base, 'GET', '/api/storage');
      out.write(`Storage: ${formatKWh(s.storedMWh)} of ${formatKWh(s.capacityMWh)} available; buys at ${price(s.buyPriceMicroHecPerKWh)}, sells at ${price(s.sellPriceMicroHecPerKWh)}; fund ${formatHec(s.fundMicroHec)}\n`);
      return 0;
    }

    if (sub === 'order') {
      const { values: v } = parse(rest, { ...signed, side: { type: 'string' }, meter: { type: 'string' }, kwh: { type: 'string' }, price: { type: 'string' }, until: { type: 'string' } });
      if (v.side !== 'sell' && v.side !== 'buy') throw new UsageError('--side must be sell or buy');
      if (!v.meter) throw new UsageError('--meter ID is required');
      const energyMWh = kwh('kwh', v.kwh);
      const p = hec('price', v.price);
      let validUntil: number | undefined;
      if (v.until !== undefined) {
        validUntil = Date.parse(v.until);
        if (!Number.isFinite(validUntil)) throw new UsageError('--until must be a date and time, e.g. 2026-12-31T23:00Z');
      }
      done(`Standing ${v.side} order for up to ${formatKWh(energyMWh)} a period at ${price(p)}`, await send(gatewayUrl(v.data!, v.gateway), v.wallet!, {
        type: 'StandingOrder', side: v.side, meter: v.meter, energyMWh, priceMicroHecPerKWh: p, ...(validUntil !== undefined ? { validUntil } : {}),
      }));
      return 0;
    }

    if (sub === 'orders') {
      const { values: v } = parse(rest, { ...common, email: { type: 'string' } });
      const list = await api<Array<{ id: string; owner: string; side: string; meter: string; energyMWh: number; priceMicroHecPerKWh: number; active: boolean; validUntil?: number }>>(
        gatewayUrl(v.data!, v.gateway), 'GET', `/api/market/orders${v.email ? `?participant=${encodeURIComponent(v.email.toLowerCase())}` : ''}`);
      if (!list.length) out.write('No standing orders.\n');
      else out.write(table(['order', 'household', 'side', 'meter', 'up to', 'price', 'active'], list.map((o) => [o.id, o.owner, o.side, o.meter, formatKWh(o.energyMWh), price(o.priceMicroHecPerKWh), o.active ? 'yes' : 'no'])) + '\n');
      return 0;
    }

    if (sub === 'revoke') {
      const { values: v } = parse(rest, { ...signed, order: { type: 'string' } });
      if (!v.order || !/^[0-9a-f]{64}$/.test(v.order)) throw new UsageError('--order TXID is required (helios market orders lists them)');
      done(`Revoked standing order ${v.order.slice(0, 12)}`, await send(gatewayUrl(v.data!, v.gateway), v.wallet!, { type: 'RevokeStandingOrder', order: v.order }));
      return 0;
    }

    throw new UsageError(sub ? `unknown market command "${sub}"` : 'say what to do: status, offer, bid, cancel, history, direct, storage, order, orders or revoke');
  });
}
