/**
 * A client for Toxiproxy's HTTP API (the `toxiproxy` service of test/servers/services.ts), with
 * `fetch`: proxies in front of real servers, and toxics that break them.
 *
 *   const toxiproxy = new ToxiproxyClient(process.env.TOXIPROXY_URL);
 *   const proxy = await toxiproxy.createProxy({ name: 'redis', upstream: '127.0.0.1:16379' });
 *   connect the client to proxy.host:proxy.port, then
 *   await proxy.addToxic({ type: 'latency', attributes: { latency: 3000 } });
 *   await proxy.removeToxic('latency_downstream');
 *   await toxiproxy.reset();   // every proxy enabled, every toxic gone
 */

/** The toxics Toxiproxy 2 knows, with the attributes each takes. */
export interface ToxicAttributes {
  /** Adds `latency` ms (± `jitter`) to each chunk of data. */
  latency: { latency: number; jitter?: number };
  /** At most `rate` KB/s. */
  bandwidth: { rate: number };
  /** Holds the close of a connection back `delay` ms. */
  slow_close: { delay: number };
  /** Lets no data through; closes the connection after `timeout` ms (0: never, until removed). */
  timeout: { timeout: number };
  /** Resets the connection (TCP RST) `timeout` ms after data arrives (0: at once). */
  reset_peer: { timeout: number };
  /** Cuts data into chunks of about `average_size` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation?: number; delay?: number };
  /** Closes the connection after `bytes` bytes. */
  limit_data: { bytes: number };
}
export type ToxicType = keyof ToxicAttributes;

/** Upstream: client to server; downstream: server to client. */
export type ToxicStream = 'upstream' | 'downstream';

export interface ToxicSpec<T extends ToxicType = ToxicType> {
  readonly type: T;
  readonly attributes: ToxicAttributes[T];
  readonly stream?: ToxicStream;
  /** Defaults to `<type>_<stream>`, Toxiproxy's own default. */
  readonly name?: string;
  /** The share of connections it applies to, 0 to 1. Default 1. */
  readonly toxicity?: number;
}

export interface Toxic {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  readonly toxicity: number;
  readonly attributes: Record<string, number>;
}

interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
}

/** Toxiproxy's API answered with an error, or not in time. */
export class ToxiproxyError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ToxiproxyError';
    this.status = status;
  }
}

/** One proxy: clients connect to `host:port`, Toxiproxy forwards to its upstream. */
export class ToxiProxy {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly upstream: string;
  readonly #api: ToxiproxyClient;

  constructor(api: ToxiproxyClient, state: ProxyState) {
    this.#api = api;
    this.name = state.name;
    this.upstream = state.upstream;
    const colon = state.listen.lastIndexOf(':');
    this.host = state.listen.slice(0, colon).replace(/^\[|\]$/g, '');
    this.port = Number(state.listen.slice(colon + 1));
  }

  /** `host:port` for clients. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  addToxic<T extends ToxicType>(spec: ToxicSpec<T>): Promise<Toxic> {
    const stream = spec.stream ?? 'downstream';
    return this.#api.request<Toxic>('POST', `/proxies/${this.#path}/toxics`, {
      name: spec.name ?? `${spec.type}_${stream}`,
      type: spec.type,
      stream,
      toxicity: spec.toxicity ?? 1,
      attributes: spec.attributes,
    });
  }

  async removeToxic(name: string): Promise<void> {
    await this.#api.request('DELETE', `/proxies/${this.#path}/toxics/${encodeURIComponent(name)}`);
  }

  toxics(): Promise<Toxic[]> {
    return this.#api.request<Toxic[]>('GET', `/proxies/${this.#path}/toxics`);
  }

  /** Removes every toxic of this proxy. */
  async clearToxics(): Promise<void> {
    for (const toxic of await this.toxics()) await this.removeToxic(toxic.name);
  }

  /** A disabled proxy closes its connections and refuses new ones. */
  async setEnabled(enabled: boolean): Promise<void> {
    await this.#api.request('POST', `/proxies/${this.#path}`, { enabled });
  }

  async delete(): Promise<void> {
    await this.#api.request('DELETE', `/proxies/${this.#path}`);
  }

  get #path(): string {
    return encodeURIComponent(this.name);
  }
}

export class ToxiproxyClient {
  readonly url: string;
  readonly #timeoutMs: number;

  /** `url`: the API, e.g. `http://127.0.0.1:18474`; each request is bounded by `timeoutMs`. */
  constructor(url: string, timeoutMs = 5_000) {
    this.url = url.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }

  async version(): Promise<string> {
    return (await this.request<{ version: string }>('GET', '/version')).version;
  }

  /**
   * A proxy from `listen` (default 127.0.0.1 on a port Toxiproxy picks) to `upstream`. A proxy of
   * the same name left by an earlier run is replaced.
   */
  async createProxy(options: { name: string; upstream: string; listen?: string }): Promise<ToxiProxy> {
    const body = { name: options.name, upstream: options.upstream, listen: options.listen ?? '127.0.0.1:0' };
    let state: ProxyState;
    try {
      state = await this.request<ProxyState>('POST', '/proxies', body);
    } catch (error) {
      if (!(error instanceof ToxiproxyError) || error.status !== 409) throw error;
      await this.request('DELETE', `/proxies/${encodeURIComponent(options.name)}`);
      state = await this.request<ProxyState>('POST', '/proxies', body);
    }
    return new ToxiProxy(this, state);
  }

  /** Every proxy enabled again and every toxic removed. */
  async reset(): Promise<void> {
    await this.request('POST', '/reset');
  }

  /** One API call; rejects with a ToxiproxyError on an error status or when it takes too long. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (error) {
      throw new ToxiproxyError(`toxiproxy ${method} ${path}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text.trim();
      try {
        const message = (JSON.parse(text) as { error?: unknown }).error;
        if (typeof message === 'string') detail = message;
      } catch {
        // not JSON: the text as it is
      }
      throw new ToxiproxyError(`toxiproxy ${method} ${path}: ${response.status} ${detail}`, response.status);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}
