// TLS for every backend from one shape (`tlsSettingsSchema`): its variables, node's socket options,
// the warning for an unverified connection, and what a failed handshake means in plain words.
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { ErrorClassification } from '../../ports/errors.ts';
import { Redacted } from '../../ports/redacted.ts';
import type { EnvVariable } from '../../runtime/adapter-descriptor.ts';
import type { TlsSettings } from '../../runtime/options/schema-pieces.ts';

/** `<PREFIX>_TLS_CA_FILE`, `_CERT_FILE`, `_KEY_FILE`, `_SERVER_NAME`, `_INSECURE_SKIP_VERIFY` for `option`. */
export function tlsVariables(prefix: string, option = 'tls'): Record<string, EnvVariable> {
  return {
    [`${prefix}_TLS_CA_FILE`]: {
      option: `${option}.ca`,
      kind: 'file',
      description: 'extra CA certificates (PEM) to trust',
    },
    [`${prefix}_TLS_CERT_FILE`]: {
      option: `${option}.cert`,
      kind: 'file',
      description: 'client certificate (PEM) for mutual TLS',
    },
    [`${prefix}_TLS_KEY_FILE`]: {
      option: `${option}.key`,
      kind: 'file',
      description: "the client certificate's key (PEM)",
    },
    [`${prefix}_TLS_SERVER_NAME`]: {
      option: `${option}.serverName`,
      description: "name the server's certificate must carry, if not the host",
    },
    [`${prefix}_TLS_INSECURE_SKIP_VERIFY`]: {
      option: `${option}.insecureSkipVerify`,
      kind: 'boolean',
      description: 'accept any server certificate (test benches only; warned at start)',
    },
  };
}

/** Node's TLS socket options for `settings`. */
export function nodeTlsOptions(settings: TlsSettings): ConnectionOptions {
  const key = settings.key instanceof Redacted ? settings.key.reveal() : settings.key;
  return {
    ...(settings.ca === undefined ? {} : { ca: settings.ca }),
    ...(settings.cert === undefined ? {} : { cert: settings.cert }),
    ...(key === undefined ? {} : { key }),
    ...(settings.serverName === undefined ? {} : { servername: settings.serverName }),
    rejectUnauthorized: !settings.insecureSkipVerify,
  };
}

/** One warning at start for a connection whose server is not verified. */
export function warnIfUnverified(settings: TlsSettings | undefined, logger: Logger): void {
  if (settings?.insecureSkipVerify)
    logger.warn(
      "TLS without verifying the server's certificate (insecureSkipVerify): anyone on the path can read and change the traffic",
    );
}

// Node's and OpenSSL's codes for a handshake that failed, in words a user can act on.
const handshakeFailures: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN:
    "untrusted certificate: the server's certificate chain ends in a CA this client does not trust (set the CA file)",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "untrusted certificate: the server's certificate is self-signed (set the CA file)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "untrusted certificate: the server's certificate is not signed by a trusted CA (set the CA file)",
  UNABLE_TO_GET_ISSUER_CERT:
    "untrusted certificate: the server's certificate issuer is unknown (set the CA file)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "untrusted certificate: the server's certificate issuer is unknown (set the CA file)",
  CERT_UNTRUSTED: "untrusted certificate: the server's certificate is not trusted",
  CERT_HAS_EXPIRED: "expired certificate: the server's certificate is past its end date",
  CERT_NOT_YET_VALID: "certificate not yet valid: the server's certificate starts later (check the clocks)",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "host name mismatch: the server's certificate does not name the host connected to (or the server name set)",
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS to a plaintext port: the server did not answer the TLS handshake',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS to a plaintext port: the server did not answer the TLS handshake',
  ERR_BERTH_TLS_TO_PLAINTEXT_PORT:
    'TLS to a plaintext port: the server answers plaintext, not the TLS handshake',
  ERR_BERTH_PLAINTEXT_TO_TLS_PORT:
    'plaintext to a TLS port: the server wants TLS (use its TLS URL or setting)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    'client certificate required: the server wants mutual TLS (set the certificate and key)',
  // OpenSSL 3's name for the same alert, as Node 24 reports it.
  'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE':
    'client certificate missing or refused: the server wants mutual TLS with a certificate it trusts (set the certificate and key)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE:
    'client certificate missing or refused: the server wants mutual TLS with a certificate it trusts (set the certificate and key)',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    'client certificate refused: the server does not trust the CA of the certificate given',
};

/** A failed TLS handshake as `config` (never retried: the next attempt fails the same way), else undefined. */
export function classifyTlsError(error: unknown): ErrorClassification | undefined {
  for (let cause = error, depth = 0; cause !== null && typeof cause === 'object' && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    const message = typeof code === 'string' ? handshakeFailures[code] : undefined;
    if (message !== undefined) return { reason: 'config', retryable: false, message };
    // Node's `cause`, or mssql's `originalError` around tedious's.
    const wrapped = cause as { cause?: unknown; originalError?: unknown };
    cause = wrapped.cause ?? wrapped.originalError;
  }
  return undefined;
}

/** What the other transport sends first and how its answer looks, for `transportMismatch`. */
export interface PlaintextHello {
  readonly send: string;
  answers(reply: string): boolean;
}

/** An error `classifyTlsError` names: the connection used the transport the server does not speak. */
export function mismatchError(
  code: 'ERR_BERTH_PLAINTEXT_TO_TLS_PORT' | 'ERR_BERTH_TLS_TO_PLAINTEXT_PORT',
  cause: unknown,
): Error {
  return Object.assign(new Error(handshakeFailures[code]), { code, cause });
}

/**
 * After a first connection failed without a reason (reset, closed, no answer): asks the port once,
 * within `timeoutMs`, whether it speaks the other transport, so the user reads "plaintext to a TLS
 * port" instead of an outage. Undefined when it does not, or cannot tell.
 */
export function transportMismatch(
  target: { host: string; port: number },
  usedTls: boolean,
  hello: PlaintextHello,
  timeoutMs: number,
  cause: unknown,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = usedTls
      ? net.connect(target, () => socket.write(hello.send))
      : tls.connect({ ...target, rejectUnauthorized: false }, () =>
          finish(mismatchError('ERR_BERTH_PLAINTEXT_TO_TLS_PORT', cause)),
        );
    let reply = '';
    const finish = (answer: Error | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (usedTls && hello.answers(reply)) finish(mismatchError('ERR_BERTH_TLS_TO_PLAINTEXT_PORT', cause));
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

const targetOf = (address: string): { host: string; port: number } => {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
};

/**
 * For a plaintext client whose connection was closed before any answer: a function giving the
 * error back, or the named one when `address` (`host:port`) answers a TLS handshake.
 */
export function plaintextToTlsDiagnosis(address: string, closedSilently: (error: unknown) => boolean) {
  const target = targetOf(address);
  const noHello = { send: '', answers: () => false };
  return async (error: unknown): Promise<unknown> =>
    closedSilently(error) ? ((await transportMismatch(target, false, noHello, 500, error)) ?? error) : error;
}

/**
 * For a TLS client whose connection was closed without a reason (a driver that drops the TLS 1.3
 * alert a server sends after the handshake): a function giving the error back, or the server's
 * refusal (a client certificate wanted, refused or of an unknown CA) that one handshake of its own
 * with the same `options` meets within 500 ms.
 */
export function tlsRefusalDiagnosis(
  address: string,
  options: ConnectionOptions,
  closedSilently: (error: unknown) => boolean,
) {
  const target = targetOf(address);
  const refusal = (cause: unknown): Promise<unknown> =>
    new Promise((resolve) => {
      const socket = tls.connect({ ...options, ...target });
      const finish = (answer: unknown): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      };
      let timer = setTimeout(() => finish(cause), 500);
      // The alert follows the handshake by a round trip: a server that sends none in 200 ms took us.
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(cause), 200);
      });
      // Reading is what meets the alert.
      socket.on('data', () => undefined);
      socket.on('error', (error: Error) =>
        finish(classifyTlsError(error) === undefined ? cause : Object.assign(error, { cause })),
      );
      socket.on('close', () => finish(cause));
    });
  return (error: unknown): Promise<unknown> =>
    closedSilently(error) ? refusal(error) : Promise.resolve(error);
}
