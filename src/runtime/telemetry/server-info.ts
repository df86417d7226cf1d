/** Where an adapter's server is, for the conventions' `server.*` and `db.namespace` attributes. */
export interface ServerInfo {
  /** Host name or IP address, never a URL (which could hold credentials). */
  address?: string | undefined;
  port?: number | undefined;
  /** The database, keyspace or Redis database index. */
  namespace?: string | undefined;
}

const schemePorts: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** Where `host:port` (or `[v6]:port`) points. */
export function serverOfHostPort(hostPort: string | undefined, namespace?: string): ServerInfo | undefined {
  if (hostPort === undefined || hostPort === '') return undefined;
  const bracket = hostPort.startsWith('[') ? hostPort.indexOf(']') : -1;
  const colon = hostPort.indexOf(':', bracket < 0 ? 0 : bracket);
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const port = colon < 0 ? undefined : Number(hostPort.slice(colon + 1));
  return {
    address: host.startsWith('[') ? host.slice(1, -1) : host,
    port: port !== undefined && Number.isInteger(port) ? port : undefined,
    namespace,
  };
}

/**
 * Where a URL points: the host and port of its first host (MongoDB URLs list several), the
 * scheme's default port when none is given, and never its credentials. The namespace is the
 * caller's, else the URL's first path segment (a database name, a Redis database index).
 */
export function serverOfUrl(
  url: string | undefined,
  defaultPort?: number,
  namespace?: string,
): ServerInfo | undefined {
  if (url === undefined) return undefined;
  const schemeEnd = url.indexOf('://');
  if (schemeEnd < 0) return undefined;
  const rest = url.slice(schemeEnd + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  const server = serverOfHostPort(hosts.split(',')[0]);
  if (server === undefined) return undefined;
  const path = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const segment = path.startsWith('/') ? path.slice(1).split(/[/?#]/)[0]! : '';
  let named = namespace;
  if (named === undefined && segment !== '') {
    try {
      named = decodeURIComponent(segment);
    } catch {
      named = undefined;
    }
  }
  return {
    address: server.address,
    port: server.port ?? defaultPort ?? schemePorts[url.slice(0, schemeEnd).toLowerCase()],
    namespace: named,
  };
}

/** A Redis URL's or a cluster's first node; the namespace is the database index (0 on a cluster). */
export function serverOfRedis(options: {
  url?: string | undefined;
  cluster?: { nodes: readonly string[] } | undefined;
}): ServerInfo | undefined {
  if (options.url !== undefined) {
    const server = serverOfUrl(options.url, 6379);
    return server && { ...server, namespace: server.namespace ?? '0' };
  }
  return serverOfHostPort(options.cluster?.nodes[0], '0');
}
