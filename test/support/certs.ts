/**
 * Certificates for TLS tests, made with the openssl command (as the README
 * tells an operator to): a CA, and per node a key and a certificate the CA
 * signed, for 127.0.0.1, ::1 and localhost (or the hosts given), usable by a
 * server and by a client. Everything goes into a directory the test owns.
 * EC P-256 keys: a certificate takes openssl a few milliseconds.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCa {
  name: string;
  ca_file: string;
  key_file: string;
}

export interface TestCertificate {
  cert_file: string;
  key_file: string;
}

const VALID_DAYS = 2;
let certificates_made = 0;
const LOOPBACK_NAMES = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKeyArgs(key_file: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key_file];
}

/** A self-signed CA named `name`, in `dir/<name>-ca.crt` and `dir/<name>-ca.key`. */
export function makeCa(dir: string, name: string): TestCa {
  const ca_file = path.join(dir, `${name}-ca.crt`);
  const key_file = path.join(dir, `${name}-ca.key`);
  openssl([
    'req', '-x509', ...newKeyArgs(key_file), '-out', ca_file, '-days', String(VALID_DAYS), '-subj', `/CN=ddb test CA ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { name, ca_file, key_file };
}

/**
 * A key and a certificate signed by `ca`, named `dir/<name>.crt` and `.key`.
 * `hosts`: the subjectAltNames, as openssl writes them (IP:10.0.0.1, DNS:db1).
 */
export function makeCertificate(ca: TestCa, options: { dir: string; name: string; hosts?: string[] }): TestCertificate {
  const cert_file = path.join(options.dir, `${options.name}.crt`);
  const key_file = path.join(options.dir, `${options.name}.key`);
  const request_file = path.join(options.dir, `${options.name}.csr`);
  const extensions_file = path.join(options.dir, `${options.name}.ext`);
  fs.writeFileSync(
    extensions_file,
    [
      `subjectAltName=${(options.hosts ?? LOOPBACK_NAMES).join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
    ].join('\n'),
  );
  openssl(['req', '-new', ...newKeyArgs(key_file), '-out', request_file, '-subj', `/CN=${options.name}`]);
  openssl([
    'x509', '-req', '-in', request_file, '-CA', ca.ca_file, '-CAkey', ca.key_file, '-set_serial', serialNumber(),
    '-days', String(VALID_DAYS), '-extfile', extensions_file, '-out', cert_file,
  ]);
  fs.rmSync(request_file);
  fs.rmSync(extensions_file);
  return { cert_file, key_file };
}

/** Unique per test process and run: the pid, the time and a counter. */
function serialNumber(): string {
  certificates_made += 1;
  return `0x${process.pid.toString(16)}${Date.now().toString(16)}${certificates_made.toString(16).padStart(4, '0')}`;
}

/** What a node's config says under "tls". */
export interface NodeTlsFiles extends TestCertificate {
  ca_file: string;
}

/**
 * A CA and one certificate per node id, each node trusting that CA. The ids
 * in `other_ca_ids` get a certificate from a second CA, which they also
 * trust alone: nodes that hold a key, but not one the cluster's CA signed.
 */
export function makeClusterCertificates(dir: string, options: { ids: number[]; other_ca_ids?: number[] }): { ca: TestCa; other_ca: TestCa | null; files_of: (id: number) => NodeTlsFiles } {
  const ca = makeCa(dir, 'cluster');
  const other = (options.other_ca_ids ?? []).length === 0 ? null : makeCa(dir, 'other');
  const files = new Map<number, NodeTlsFiles>();
  for (const id of options.ids) {
    const issuer = other !== null && options.other_ca_ids?.includes(id) ? other : ca;
    files.set(id, { ...makeCertificate(issuer, { dir, name: `node-${id}` }), ca_file: issuer.ca_file });
  }
  return { ca, other_ca: other, files_of: (id) => files.get(id) as NodeTlsFiles };
}
