/** Meters over HTTP: enrolment (ledger), live status and readings (metering), and /metrics. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fail, parseJson } from '../../../protocol/index.ts';
import { keys, type MeterEntry } from '../../ledger/entities.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Metrics } from '../../metrics.ts';
import type { Availability } from '../../metering/status.ts';
import type { MeteringStore } from '../../metering/store.ts';
import { mayRead, readerOf, type AuthDeps } from '../auth.ts';

export interface MeterRoutesDeps {
  ledger: Ledger;
  store: MeteringStore;
  availability: Availability;
  metrics: Metrics;
  auth: AuthDeps;
}

const idParam = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } }, required: ['id'] } as const;

export function meterRoutes(app: FastifyInstance, d: MeterRoutesDeps): void {
  const view = (m: MeterEntry) => {
    const s = d.availability.get(m.meter);
    const last = d.store.lastReading(m.meter);
    return {
      ...m,
      status: s ? { state: s.state, relay: s.relay, fw: s.fw, clock: s.clock, fault: s.fault, lastSeen: Math.max(s.lastSeen, last?.receivedAt ?? 0), since: s.since } : { state: 'never connected' },
      lastReading: last ? { seq: last.seq, t: last.t, importMWh: last.importMWh, exportMWh: last.exportMWh, powerW: last.powerW, relay: last.relay, creditMWh: last.creditMWh, blockHeight: last.blockHeight } : null,
    };
  };

  // A meter's enrolment, status and readings are its household's (docs/api.md, "Who may read what").
  const owned = async (req: FastifyRequest, id: string): Promise<MeterEntry> => {
    const r = await readerOf(req, d.auth);
    const m = d.ledger.state.get<MeterEntry>(keys.meter(id));
    if (!m) fail('E_UNKNOWN_METER', `meter ${id} is not enrolled`);
    mayRead(r, m.participant, `meter ${id}`);
    return m;
  };

  app.get('/api/meters', async (req) => {
    const r = await readerOf(req, d.auth);
    return d.ledger.state.entries<MeterEntry>('meter/').filter(([, m]) => r.kind === 'operator' || m.participant === r.email).map(([, m]) => view(m));
  });

  app.get('/api/meters/pending', async () => {
    const enrolled = (id: string) => d.ledger.state.get(keys.meter(id)) !== undefined;
    return d.store.hellos().filter((h) => !enrolled(h.meter));
  });

  app.get('/api/meters/:id', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params as { id: string };
    const m = await owned(req, id);
    return { ...view(m), readings: d.store.readingCount(id), gaps: d.store.gaps(id), credits: d.store.creditsOf(id, 20) };
  });

  app.get('/api/meters/:id/readings', {
    schema: {
      params: idParam,
      querystring: { type: 'object', properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10_000 }, signed: { type: 'boolean' } }, additionalProperties: false },
    },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const q = req.query as { from?: number; to?: number; limit?: number; signed?: boolean };
    await owned(req, id);
    const rows = d.store.readings(id, q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? 1000);
    return rows.map(({ envelope, ...r }) => (q.signed ? { ...r, signed: parseJson(envelope) } : r));
  });

  app.get('/api/meters/:id/energy', {
    schema: { params: idParam, querystring: { type: 'object', properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } }, required: ['from', 'to'], additionalProperties: false } },
  }, async (req) => {
    const { id } = req.params as { id: string };
    const q = req.query as { from: number; to: number };
    await owned(req, id);
    if (q.to <= q.from) fail('E_OUT_OF_RANGE', '"to" must be after "from"');
    return { meter: id, from: q.from, to: q.to, ...d.store.energyBetween(id, q.from, q.to) };
  });

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });
}
