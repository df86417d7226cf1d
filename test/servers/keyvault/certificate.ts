// The emulator's TLS certificate: self-signed, made once with the openssl CLI and kept in its
// state folder, so clients can trust it explicitly (`ca`) across restarts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Certificate {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

/** cert.pem and key.pem in `dir`, made with the openssl CLI the first time. */
export function certificate(dir: string): Certificate {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    const tmpCert = `${certFile}.tmp-${process.pid}`;
    const tmpKey = `${keyFile}.tmp-${process.pid}`;
    makeSelfSigned(tmpCert, tmpKey);
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
  }
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile };
}

function makeSelfSigned(certFile: string, keyFile: string): void {
  // CA:TRUE so that Node accepts the certificate itself as the trust anchor (`ca`).
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=berth-keyvault-emulator',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `keyvault emulator: openssl req failed: ${result.error?.message ?? ''}${result.stderr ?? ''}`.trim(),
    );
  }
}
