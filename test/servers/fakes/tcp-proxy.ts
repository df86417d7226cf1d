/**
 * A fault-injection TCP proxy on 127.0.0.1 for tests: real sockets, no mocks.
 *
 *   const proxy = await createTcpProxy({ host: '127.0.0.1', port: 6379 });
 *   connect the client to proxy.host:proxy.port, then
 *   proxy.blackhole()  // the server looks hung: connections stay open, no byte moves either way
 *   proxy.cut()        // the server looks down: connections are reset, new ones reset at once
 *   proxy.restore()    // forward normally again
 *   await proxy.close()
 *
 * Blackhole holds bytes rather than dropping them, as a stalled network does: the proxy stops
 * reading from both sides (TCP back-pressure then stalls the senders). After `restore()` the
 * held bytes flow on, on the connections that are still open. A connection accepted during a
 * blackhole is kept open and reaches the target only at `restore()`.
 */
import net from 'node:net';

export type TcpProxyMode = 'forward' | 'blackhole' | 'cut';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: TcpProxyMode;
  /** Client connections currently open through the proxy. */
  readonly connections: number;
  /** Keep existing and new connections open, but forward no bytes in either direction. */
  blackhole(): void;
  /** Reset all current connections and every new one: the server looks down. */
  cut(): void;
  /** Forward normally again. */
  restore(): void;
  /** Stop listening and destroy all connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Link {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const host = '127.0.0.1';
  let mode: TcpProxyMode = 'forward';
  const links = new Set<Link>();

  const drop = (link: Link, reset: boolean) => {
    if (!links.delete(link)) return;
    if (reset && !link.client.destroyed) link.client.resetAndDestroy();
    else link.client.destroy();
    link.upstream?.destroy();
  };

  /** Copies from one socket to the other, with back-pressure, only while forwarding. */
  const relay = (link: Link, from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (mode !== 'forward') {
        // Read before the mode changed: hold it for restore().
        from.pause();
        from.unshift(chunk);
        return;
      }
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (mode === 'forward') from.resume();
    });
    from.on('end', () => to.end());
    from.on('error', () => drop(link, false));
    from.on('close', () => {
      // Let the other side flush what it already holds, then close both.
      if (to.destroyed || to.writableFinished) {
        drop(link, false);
        return;
      }
      to.once('finish', () => drop(link, false));
      to.once('close', () => drop(link, false));
      to.end();
    });
  };

  const connectUpstream = (link: Link) => {
    const upstream = net.connect({ host: target.host, port: target.port });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    // The target refusing is the target being down: the client sees a reset.
    upstream.on('error', () => drop(link, true));
    upstream.once('connect', () => {
      relay(link, link.client, upstream);
      relay(link, upstream, link.client);
      if (mode === 'forward') {
        link.client.resume();
        upstream.resume();
      } else {
        link.client.pause();
        upstream.pause();
      }
    });
  };

  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (mode === 'cut') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: undefined };
    links.add(link);
    client.setNoDelay(true);
    client.on('error', () => drop(link, false));
    if (mode === 'forward') connectUpstream(link);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: no TCP address');

  const proxy: TcpProxy = {
    host,
    port: address.port,
    get mode() {
      return mode;
    },
    get connections() {
      return links.size;
    },
    blackhole() {
      if (mode === 'cut') return; // nothing open to hold; restore() first
      mode = 'blackhole';
      for (const link of links) {
        link.client.pause();
        link.upstream?.pause();
      }
    },
    cut() {
      mode = 'cut';
      for (const link of [...links]) drop(link, true);
    },
    restore() {
      mode = 'forward';
      for (const link of links) {
        if (link.upstream === undefined) connectUpstream(link);
        else if (!link.upstream.connecting) {
          link.client.resume();
          link.upstream.resume();
        }
      }
    },
    async close() {
      mode = 'cut';
      for (const link of [...links]) drop(link, false);
      if (!server.listening) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
