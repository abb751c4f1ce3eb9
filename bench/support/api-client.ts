/** The benches' HTTP client: our API as an operator drives it, with one admin key. */
export class BenchApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: object): Promise<{ status: number; data: T; total?: number }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json().catch(() => ({}))) as { data?: T; total?: number };
    return { status: res.status, data: json.data as T, total: json.total };
  }

  /** The request, failing unless it answers `want`. */
  async expect<T>(want: number, method: string, path: string, body?: object): Promise<T> {
    const r = await this.request<T>(method, path, body);
    if (r.status !== want) throw new Error(`${method} ${path} answered ${r.status}, expected ${want}: ${JSON.stringify(r.data)}`);
    return r.data;
  }
}
