/**
 * TLS material for the broker's MQTTS listener: a grid CA and a server certificate
 * it signs (EC P-256), made with the openssl command at `helios init`. Meters pin the
 * CA certificate. An operator may instead point gateway.json at files of their own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface TlsFiles {
  caCert: string;
  cert: string;
  key: string;
}

export function tlsFiles(dir: string): TlsFiles {
  return { caCert: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

/** Make the CA and server certificate in `dir` unless they exist. Returns the files, or throws if openssl is missing. */
export function ensureTls(dir: string, grid: string): TlsFiles {
  const f = tlsFiles(dir);
  if (existsSync(f.cert) && existsSync(f.key)) return f;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', f.caCert,
    '-days', '3650', '-subj', `/CN=Helios grid ${grid} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.key, '-out', csr, '-subj', `/CN=${hostname()}`]);
  writeFileSync(ext, `subjectAltName=DNS:localhost,DNS:${hostname()},IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
  run(['x509', '-req', '-in', csr, '-CA', f.caCert, '-CAkey', caKey, '-CAcreateserial', '-out', f.cert, '-days', '825', '-extfile', ext]);
  return f;
}

export function readTls(f: TlsFiles): { key: Buffer; cert: Buffer } {
  return { key: readFileSync(f.key), cert: readFileSync(f.cert) };
}
