import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTcpProxy } from '../servers/fakes/tcp-proxy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';

// Echoes on loopback take milliseconds: polled often.
const poll = { everyMs: 10 };

/** An echo server on 127.0.0.1 that counts what reaches it. */
async function startEchoServer() {
  const sockets = new Set<net.Socket>();
  let bytesReceived = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => {
      bytesReceived += chunk.length;
      socket.write(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    get open() {
      return sockets.size;
    },
    get bytesReceived() {
      return bytesReceived;
    },
    push(text: string) {
      for (const socket of sockets) socket.write(text);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A client socket that records what it receives and how it ended. */
class Client {
  readonly socket: net.Socket;
  received = '';
  connected = false;
  closed = false;
  error: NodeJS.ErrnoException | undefined;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.setEncoding('utf8');
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('data', (chunk: string) => (this.received += chunk));
    this.socket.on('error', (error) => (this.error = error));
    this.socket.on('close', () => (this.closed = true));
  }

  static async open(port: number): Promise<Client> {
    const client = new Client(port);
    await waitFor('connect', () => client.connected || client.closed, 2_000, poll);
    assert.equal(client.connected, true, `connect failed: ${client.error?.message}`);
    return client;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

void describe('tcp proxy', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  before(async () => {
    echo = await startEchoServer();
  });
  after(async () => {
    await echo.close();
  });

  void it('forwards bytes both ways', async () => {
    await using proxy = await createTcpProxy({ host: '127.0.0.1', port: echo.port });
    assert.equal(proxy.host, '127.0.0.1');
    assert.notEqual(proxy.port, echo.port);
    const client = await Client.open(proxy.port);
    client.send('hello');
    await waitFor('the echo', () => client.received === 'hello', 2_000, poll);
    assert.equal(proxy.connections, 1);
    client.destroy();
    await waitFor('the proxy to drop the closed connection', () => proxy.connections === 0, 2_000, poll);
  });

  void it('blackhole: existing and new connections stay open, no byte moves; restore delivers', async () => {
    await using proxy = await createTcpProxy({ host: '127.0.0.1', port: echo.port });
    const existing = await Client.open(proxy.port);
    existing.send('one');
    await waitFor('the echo before the blackhole', () => existing.received === 'one', 2_000, poll);

    proxy.blackhole();
    assert.equal(proxy.mode, 'blackhole');
    const before = echo.bytesReceived;
    existing.send('two');
    const fresh = await Client.open(proxy.port); // accepted: the server looks hung, not down
    fresh.send('three');
    await sleep(300);
    assert.equal(existing.received, 'one', 'nothing comes back during the blackhole');
    assert.equal(fresh.received, '');
    assert.equal(echo.bytesReceived, before, 'nothing reaches the server during the blackhole');
    assert.equal(existing.closed, false);
    assert.equal(fresh.closed, false);
    assert.equal(proxy.connections, 2);

    proxy.restore();
    await waitFor(
      'the held bytes of the existing connection',
      () => existing.received === 'onetwo',
      2_000,
      poll,
    );
    await waitFor('the held bytes of the new connection', () => fresh.received === 'three', 2_000, poll);
    existing.send('four');
    await waitFor('the echo after restore', () => existing.received === 'onetwofour', 2_000, poll);
    existing.destroy();
    fresh.destroy();
  });

  void it('blackhole also holds bytes the server sends on its own', async () => {
    await using proxy = await createTcpProxy({ host: '127.0.0.1', port: echo.port });
    const client = await Client.open(proxy.port);
    client.send('hi');
    await waitFor('the echo before the blackhole', () => client.received === 'hi', 2_000, poll);

    proxy.blackhole();
    echo.push('pushed'); // server -> client on every connection it has
    await sleep(300);
    assert.equal(client.received, 'hi', 'nothing comes through from the server side');

    proxy.restore();
    await waitFor('the pushed bytes after restore', () => client.received === 'hipushed', 2_000, poll);
    client.destroy();
  });

  void it('cut: current connections are reset, new ones are refused; restore accepts again', async () => {
    await using proxy = await createTcpProxy({ host: '127.0.0.1', port: echo.port });
    const existing = await Client.open(proxy.port);
    existing.send('ping');
    await waitFor('the echo before the cut', () => existing.received === 'ping', 2_000, poll);
    const serverSideBefore = echo.open;
    assert.ok(serverSideBefore >= 1);

    proxy.cut();
    assert.equal(proxy.mode, 'cut');
    await waitFor('the existing connection to close', () => existing.closed, 2_000, poll);
    assert.equal(existing.error?.code, 'ECONNRESET');
    await waitFor(
      'the server side of the connection to close',
      () => echo.open === serverSideBefore - 1,
      2_000,
      poll,
    );
    assert.equal(proxy.connections, 0);

    const refused = new Client(proxy.port);
    refused.send('lost');
    await waitFor('the new connection to be closed', () => refused.closed, 2_000, poll);
    assert.equal(refused.received, '');
    assert.equal(refused.error?.code, 'ECONNRESET');
    assert.equal(proxy.connections, 0);

    proxy.restore();
    const fresh = await Client.open(proxy.port);
    fresh.send('back');
    await waitFor('the echo after restore', () => fresh.received === 'back', 2_000, poll);
    fresh.destroy();
  });

  void it('a target that is down looks like a reset to the client', async () => {
    const unused = await freePort();
    await using proxy = await createTcpProxy({ host: '127.0.0.1', port: unused });
    const client = new Client(proxy.port);
    await waitFor('the connection to close', () => client.closed, 2_000, poll);
    assert.equal(client.received, '');
    assert.equal(proxy.connections, 0);
  });

  void it('close: stops listening and closes open connections', async () => {
    const proxy = await createTcpProxy({ host: '127.0.0.1', port: echo.port });
    const client = await Client.open(proxy.port);
    await proxy.close();
    await waitFor('the open connection to close', () => client.closed, 2_000, poll);
    const late = new Client(proxy.port);
    await waitFor('the late connection to fail', () => late.closed, 2_000, poll);
    assert.equal(late.connected, false);
    assert.equal(late.error?.code, 'ECONNREFUSED');
    await proxy.close(); // idempotent
  });
});
