// The certificates of the secure test servers: one CA per state folder, a server certificate for
// 127.0.0.1 and localhost, and a client certificate for mutual TLS, all made once with the openssl
// CLI (no hand-written X.509) and kept, so a restarted server keeps trusting the same clients.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** PEM files in one folder, by role. */
export interface RunCertificates {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

// EC keys: made in milliseconds where RSA-2048 takes seconds on a busy machine.
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`openssl ${args[0] ?? ''} failed: ${result.error?.message ?? result.stderr}`.trim());
}

/** Where runCertificates keeps them, without making them (for a launcher's variables). */
export function runCertificateFiles(dir: string): RunCertificates {
  const tlsDir = path.join(dir, 'tls');
  return {
    caFile: path.join(tlsDir, 'ca.pem'),
    serverCertFile: path.join(tlsDir, 'server.pem'),
    serverKeyFile: path.join(tlsDir, 'server-key.pem'),
    clientCertFile: path.join(tlsDir, 'client.pem'),
    clientKeyFile: path.join(tlsDir, 'client-key.pem'),
  };
}

/** Makes (once) and returns the CA, server and client certificates in `dir/tls`. */
export function runCertificates(dir: string): RunCertificates {
  const tlsDir = path.join(dir, 'tls');
  const files = runCertificateFiles(dir);
  if (
    [
      files.caFile,
      files.serverCertFile,
      files.serverKeyFile,
      files.clientCertFile,
      files.clientKeyFile,
    ].every((file) => fs.existsSync(file))
  )
    return files;
  // Made in a fresh folder and renamed into place, so a half-made set is never used.
  const work = fs.mkdtempSync(path.join(dir, 'tls-'));
  const days = ['-days', '3650'];
  openssl(
    [
      'req',
      '-x509',
      ...newKey,
      ...days,
      '-subj',
      '/CN=berth test CA',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
    ],
    work,
  );
  const sign = (name: string, subject: string, extensions: string): void => {
    fs.writeFileSync(path.join(work, `${name}.ext`), extensions);
    openssl(['req', ...newKey, '-subj', subject, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], work);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-CAcreateserial',
      ].concat([...days, '-extfile', `${name}.ext`, '-out', `${name}.pem`]),
      work,
    );
  };
  sign('server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sign('client', '/CN=berth', 'extendedKeyUsage=clientAuth\n');
  fs.rmSync(tlsDir, { recursive: true, force: true });
  fs.renameSync(work, tlsDir);
  return files;
}
