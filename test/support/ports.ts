// A TCP port to hand a server that is not started yet, or a client that must be refused: bound on
// 127.0.0.1 by the system, then closed, so nothing listens there when the promise resolves.
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago and on which nothing listens now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound right now (a neighbour that a server takes as well). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('listening', () => resolve(true));
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1');
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}
