/** Prometheus metrics (GET /metrics). One registry per gateway, so several gateways can share a process (tests, simulations). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly readingsAccepted: Counter;
  readonly readingsRejected: Counter<'code'>;
  readonly mqttRefused: Counter<'code'>;
  readonly verifySeconds: Histogram;
  readonly ackSeconds: Histogram;
  readonly batchSize: Histogram;
  readonly connectedClients: Gauge<'role'>;
  readonly blocks: Counter;
  readonly txsCommitted: Counter;
  readonly txsRejected: Counter<'code'>;
  readonly creditsIssued: Counter;
  readonly meterRestores: Counter;
  readonly operatorSecretRefused: Counter<'code'>;
  readonly operatorLockouts: Counter;
  readonly httpRefused: Counter<'code'>;
  readonly lowBalanceWarnings: Counter;

  constructor(defaults = true) {
    const r = [this.registry];
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'helios_process_' });
    this.readingsAccepted = new Counter({ name: 'helios_readings_accepted_total', help: 'Meter readings verified and stored', registers: r });
    this.readingsRejected = new Counter({ name: 'helios_readings_rejected_total', help: 'Meter readings refused, by error code', labelNames: ['code'], registers: r });
    this.mqttRefused = new Counter({ name: 'helios_mqtt_refused_total', help: 'MQTT logins, publishes and subscribes refused, and clients cut off, by error code', labelNames: ['code'], registers: r });
    this.verifySeconds = new Histogram({ name: 'helios_reading_verify_seconds', help: 'From a reading arriving to its signature checked', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1], registers: r });
    this.ackSeconds = new Histogram({ name: 'helios_reading_ack_seconds', help: 'From a reading arriving to its acknowledgement (after it is durable)', buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: r });
    this.batchSize = new Histogram({ name: 'helios_sqlite_reading_batch_size', help: 'Readings per SQLite transaction', buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: r });
    this.connectedClients = new Gauge({ name: 'helios_mqtt_connected_clients', help: 'Connected MQTT clients, by role', labelNames: ['role'], registers: r });
    this.blocks = new Counter({ name: 'helios_blocks_total', help: 'Blocks this gateway made', registers: r });
    this.txsCommitted = new Counter({ name: 'helios_txs_committed_total', help: 'Transactions committed in blocks this gateway made', registers: r });
    this.txsRejected = new Counter({ name: 'helios_txs_rejected_total', help: 'Transactions refused, by error code', labelNames: ['code'], registers: r });
    this.lowBalanceWarnings = new Counter({ name: 'helios_low_balance_warnings_total', help: 'On-grid households whose balance, after a period\'s allowance, no longer covers a full one (docs/market.md §9.3)', registers: r });
    this.meterRestores = new Counter({ name: 'helios_meter_restores_total', help: 'Restore messages sent to meters that lost their state record (docs/protocol.md §4)', registers: r });
    this.creditsIssued = new Counter({ name: 'helios_credit_tokens_issued_total', help: 'Credit tokens signed and sent to meters', registers: r });
    this.operatorSecretRefused = new Counter({ name: 'helios_operator_secret_refused_total', help: 'Operator secret checks refused (MQTT and HTTP): E_WRONG_SECRET, E_LOCKED_OUT, E_RATE_LIMIT', labelNames: ['code'], registers: r });
    this.operatorLockouts = new Counter({ name: 'helios_operator_lockouts_total', help: 'Source addresses locked out for guessing the operator secret', registers: r });
    this.httpRefused = new Counter({ name: 'helios_http_refused_total', help: 'HTTP requests refused, by error code', labelNames: ['code'], registers: r });
  }
}
