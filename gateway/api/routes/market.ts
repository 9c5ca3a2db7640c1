/**
 * The market over HTTP (docs/market.md §8): listings with their book, trades,
 * clearing price and settlement; the history; standing orders; the storage.
 * Read-only: households act by signing transactions (POST /api/tx), the gateway's
 * scheduler and the operator's flows by authority transactions.
 */
import type { FastifyInstance } from 'fastify';
import { fail, type Clock } from '../../../protocol/index.ts';
import { keys, type ListingEntry } from '../../ledger/entities.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { mayRead, operatorOnly, readerOf, type AuthDeps } from '../auth.ts';
import { currentListing, history, listingDetail, listingSummary, ordersOf, purchases, storageView, utilityView } from '../../market/views.ts';

export interface MarketRoutesDeps {
  ledger: Ledger;
  clock: Clock;
  auth: AuthDeps;
}

const LISTING_ID = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}Z$';
const EMAIL = { type: 'string', minLength: 3, maxLength: 254 } as const;

export function marketRoutes(app: FastifyInstance, { ledger, clock, auth }: MarketRoutesDeps): void {
  // ?view=summary: the listing's figures without its book and trades — what a dashboard
  // polling every second wants on a grid with thousands of offers.
  const view = { querystring: { type: 'object', properties: { view: { type: 'string', enum: ['full', 'summary'] } }, additionalProperties: false } } as const;
  const show = (l: ListingEntry, v: string | undefined) => (v === 'summary' ? listingSummary(l, clock.now()) : listingDetail(ledger.state, l, clock.now()));

  app.get('/api/market/listings/current', { schema: view }, async (req) => {
    const l = currentListing(ledger.state, ledger.genesis, clock.now());
    if (!l) fail('E_UNKNOWN_LISTING', 'no kWhListing has been opened on this grid yet; the next one opens at the start of a period');
    return show(l, (req.query as { view?: string }).view);
  });

  app.get('/api/market/listings/:id', { schema: { ...view, params: { type: 'object', properties: { id: { type: 'string', pattern: LISTING_ID } }, required: ['id'] } } }, async (req) => {
    const { id } = req.params as { id: string };
    const l = ledger.state.get<ListingEntry>(keys.listing(id));
    if (!l) fail('E_UNKNOWN_LISTING', `there is no kWhListing ${id}; GET /api/market/history lists them`);
    return show(l, (req.query as { view?: string }).view);
  });

  app.get('/api/market/history', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 }, participant: EMAIL }, additionalProperties: false } },
  }, async (req) => {
    const q = req.query as { limit?: number; participant?: string };
    // The listings are public market data; one household's part in them is its own.
    if (q.participant) mayRead(await readerOf(req, auth), q.participant.toLowerCase(), `the market history of ${q.participant}`);
    return history(ledger.state, clock.now(), { limit: q.limit ?? 24, participant: q.participant?.toLowerCase() });
  });

  // Direct and storage purchases: bilateral or from the storage, outside any listing.
  app.get('/api/market/purchases', {
    schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 }, participant: EMAIL }, additionalProperties: false } },
  }, async (req) => {
    const q = req.query as { limit?: number; participant?: string };
    // Who bought what is a household's own: it reads its own, the operator every one.
    const r = await readerOf(req, auth);
    if (q.participant) mayRead(r, q.participant.toLowerCase(), `the purchases of ${q.participant}`);
    else operatorOnly(r, 'every household\'s purchases');
    return purchases(ledger.store, ledger.state, ledger.genesis, { limit: q.limit ?? 24, participant: q.participant?.toLowerCase() });
  });

  app.get('/api/market/orders', {
    schema: { querystring: { type: 'object', properties: { participant: EMAIL }, additionalProperties: false } },
  }, async (req) => {
    // Standing orders are a household's own: the operator sees every one, a household its own.
    const r = await readerOf(req, auth);
    const asked = (req.query as { participant?: string }).participant?.toLowerCase();
    if (asked) mayRead(r, asked, `the standing orders of ${asked}`);
    return ordersOf(ledger.state, asked ?? (r.kind === 'household' ? r.email : undefined), clock.now());
  });

  app.get('/api/storage', async () => ({ ...storageView(ledger.state, ledger.genesis), t: clock.now() }));
  app.get('/api/utility', async () => ({ ...utilityView(ledger.state, ledger.genesis, clock.now()), t: clock.now() }));
}
