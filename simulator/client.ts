/** The simulator's HTTP side: the gateway's public API, as households and installers use it. */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

export interface BatchAnswer {
  accepted: number;
  rejected: number;
  results: Array<{ id?: string; status: 'pending' | 'rejected'; code?: string; message?: string }>;
}

export class GatewayClient {
  constructor(public base: string, private readonly operatorSecret?: string) {}

  async request<T>(method: string, path: string, body?: unknown, operator = false): Promise<T> {
    // A GET changes nothing, so a connection the busy gateway dropped (a keep-alive
    // socket closed as it was reused) is simply asked again, twice at most.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce<T>(method, path, body, operator);
      } catch (e) {
        if (method !== 'GET' || attempt >= 3 || !(e instanceof TypeError)) throw e;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private async requestOnce<T>(method: string, path: string, body: unknown, operator: boolean): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(operator && this.operatorSecret ? { authorization: `Bearer ${this.operatorSecret}` } : {}),
      },
      body: body !== undefined ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined,
    });
    const text = await res.text();
    const data = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    if (!res.ok) throw new ApiError((data as { code?: string })?.code ?? 'E_HTTP', (data as { message?: string })?.message ?? `HTTP ${res.status}`, res.status);
    return data as T;
  }

  /** The simulator audits the whole grid, so it reads as the operator when it has the secret (households' data is private). */
  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path, undefined, true);
  }

  /** An authority transaction signed by the gateway for the operator (registrations, enrolments, mints). */
  authority<T = { id: string; status: string }>(fields: Record<string, unknown>, wait = false): Promise<T> {
    return this.request<T>('POST', `/api/authority/tx${wait ? '?wait=commit' : ''}`, fields, true);
  }

  submit<T = { id: string; status: string }>(tx: unknown, wait = false): Promise<T> {
    return this.request<T>('POST', `/api/tx${wait ? '?wait=commit' : ''}`, tx);
  }

  /**
   * Operator transactions in batches (POST /api/authority/txs), `chunk` per request:
   * the setup of thousands of households. Throws on the first refusal.
   */
  async authorityBatch(list: Array<Record<string, unknown>>, chunk = 500): Promise<void> {
    for (let i = 0; i < list.length; i += chunk) {
      const r = await this.request<BatchAnswer>('POST', '/api/authority/txs', list.slice(i, i + chunk), true);
      const bad = r.results.findIndex((x) => x.status === 'rejected');
      if (bad >= 0) throw new ApiError(r.results[bad].code!, `${String(list[i + bad].type)} refused: ${r.results[bad].message}`, 200);
    }
  }

  /** Signed transactions (JSON texts) in batches (POST /api/txs); one result per transaction, in order. */
  async submitBatch(txs: string[], chunk = 500): Promise<BatchAnswer['results']> {
    const out: BatchAnswer['results'] = [];
    for (let i = 0; i < txs.length; i += chunk) {
      const r = await this.request<BatchAnswer>('POST', '/api/txs', `[${txs.slice(i, i + chunk).join(',')}]`);
      out.push(...r.results);
    }
    return out;
  }

  /** Prometheus counters by name and code label. */
  async counters(): Promise<Map<string, number>> {
    const text = await this.get<string>('/metrics');
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^(helios_[a-z_]+)(?:\{code="([A-Z_]+)"\})? (\d+(?:\.\d+)?)$/.exec(line);
      if (m) out.set(m[2] ? `${m[1]}:${m[2]}` : m[1], Number(m[3]));
    }
    return out;
  }

  /** Wait until the mempool is empty (everything submitted is in a block or refused). */
  async settle(timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const h = await this.get<{ pending: number }>('/api/health');
      if (h.pending === 0) return;
      if (Date.now() > end) throw new Error(`${h.pending} transactions still pending after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Run `fn` over items with at most `n` in flight. */
export async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

/**
 * The gateway's counters summed across its restarts: a restarted gateway counts
 * from zero, so each key's last value before a drop is carried forward.
 */
export class CounterTotals {
  private readonly base = new Map<string, number>();
  private readonly last = new Map<string, number>();

  observe(now: Map<string, number>): void {
    for (const [k, v] of now) {
      const prev = this.last.get(k) ?? 0;
      if (v < prev) this.base.set(k, (this.base.get(k) ?? 0) + prev);
      this.last.set(k, v);
    }
    // A key that vanished with the restart.
    for (const [k, prev] of this.last) {
      if (!now.has(k) && prev > 0) {
        this.base.set(k, (this.base.get(k) ?? 0) + prev);
        this.last.set(k, 0);
      }
    }
  }

  get(key: string): number {
    return (this.base.get(key) ?? 0) + (this.last.get(key) ?? 0);
  }

  entries(): Array<[string, number]> {
    const keys = new Set([...this.base.keys(), ...this.last.keys()]);
    return [...keys].map((k) => [k, this.get(k)]);
  }
}
