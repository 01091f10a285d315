/**
 * The PEM files of config.json's `tls`, read once when a node starts and
 * checked there, so a wrong file stops the node with one line that says
 * which file and what to do (a ConfigError: exit code 2) instead of every
 * handshake failing later. The server (server.ts) and the peer channel's
 * outbound connections use the same buffers.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError, type NodeConfig, type TlsFiles } from '../../utils/config';

export interface TlsMaterial {
  /** This node's certificate, then any intermediate certificates. */
  cert: Buffer;
  key: Buffer;
  /** The certificates every node's certificate is checked against. */
  ca: Buffer;
}

/** A PEM file is small; anything this big is the wrong file. */
const PEM_BYTES_MAX = 1024 * 1024;
const HOW_TO_MAKE = "the README's TLS section shows how to make them with openssl";

/** Reads and checks the node's TLS files; throws ConfigError naming the file and the fix. */
export function tlsMaterial(config: { tls?: TlsFiles }, self?: NodeConfig): TlsMaterial {
  if (config.tls === undefined) throw new ConfigError('tlsMaterial needs a config with "tls"');
  const files = config.tls;
  const material = { cert: readPem(files.cert_file, 'tls.cert_file'), key: readPem(files.key_file, 'tls.key_file'), ca: readPem(files.ca_file, 'tls.ca_file') };
  const chain = parseCertificates(material.cert, `tls.cert_file ${files.cert_file}`);
  const leaf = chain[0] as X509Certificate;
  const authorities = parseCertificates(material.ca, `tls.ca_file ${files.ca_file}`);
  checkKey(material, files);
  checkValidity(leaf, files.cert_file);
  checkIssuer({ leaf, issuers: [...authorities, ...chain.slice(1)], files });
  if (self !== undefined) checkHost(leaf, self, files.cert_file);
  return material;
}

function readPem(file: string, key: string): Buffer {
  let contents: Buffer;
  try {
    const size_bytes = fs.statSync(file).size;
    if (size_bytes > PEM_BYTES_MAX) throw new ConfigError(`${key} ${file} has ${size_bytes} bytes, more than a PEM file has: is it the right file?`);
    contents = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no such file (${HOW_TO_MAKE})` : (error as Error).message;
    throw new ConfigError(`cannot read ${key} ${file}: ${why}`);
  }
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(`${key} ${file} is not a PEM file (no -----BEGIN line); ${HOW_TO_MAKE}`);
  return contents;
}

function parseCertificates(pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${what} holds no certificate (-----BEGIN CERTIFICATE-----)`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (error) {
    throw new ConfigError(`${what}: a certificate does not parse: ${(error as Error).message}`);
  }
}

/** The key parses, and it is the certificate's: OpenSSL checks that when it builds a context. */
function checkKey(material: TlsMaterial, files: TlsFiles): void {
  try {
    createPrivateKey(material.key);
  } catch (error) {
    throw new ConfigError(`tls.key_file ${files.key_file} holds no usable private key (${(error as Error).message}); it must be an unencrypted PEM key`);
  }
  try {
    tls.createSecureContext(material);
  } catch (error) {
    throw new ConfigError(`tls: the key and certificates do not load together (${(error as Error).message}); is tls.key_file ${files.key_file} the key of tls.cert_file ${files.cert_file}?`);
  }
}

function checkValidity(leaf: X509Certificate, file: string): void {
  const now_ms = Date.now();
  if (Date.parse(leaf.validTo) < now_ms) throw new ConfigError(`the certificate in tls.cert_file ${file} expired on ${leaf.validTo}; make a new one`);
  if (Date.parse(leaf.validFrom) > now_ms) throw new ConfigError(`the certificate in tls.cert_file ${file} is valid only from ${leaf.validFrom}; check this machine's clock`);
}

/**
 * Every node checks its peers against the CA; a node whose own certificate the
 * CA did not sign (directly, or through an intermediate in cert_file) would be
 * refused by all of them, so it says so at start.
 */
function checkIssuer(options: { leaf: X509Certificate; issuers: X509Certificate[]; files: TlsFiles }): void {
  const { leaf, issuers, files } = options;
  if (issuers.some((issuer) => leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey))) return;
  throw new ConfigError(
    `the certificate in tls.cert_file ${files.cert_file} (issuer ${oneLine(leaf.issuer)}) is not signed by the CA in tls.ca_file ${files.ca_file} ` +
      `(${issuers.map((issuer) => oneLine(issuer.subject)).join('; ')}), so peers would refuse it; sign it with that CA, or put its intermediate certificate after it in cert_file`,
  );
}

function oneLine(name: string): string {
  return name.replace(/\n/g, ', ');
}

/** Peers and clients check the certificate against the host of the node's URL: so does the node, at start. */
function checkHost(leaf: X509Certificate, self: NodeConfig, file: string): void {
  const host = new URL(self.url).hostname.replace(/^\[(.*)\]$/, '$1');
  const matches = net.isIP(host) === 0 ? leaf.checkHost(host) !== undefined : leaf.checkIP(host) !== undefined;
  if (!matches) {
    const names = leaf.subjectAltName ?? `no subjectAltName (subject ${oneLine(leaf.subject)})`;
    throw new ConfigError(`the certificate in tls.cert_file ${file} is not for ${host}, the host of node ${self.id}'s URL: it names ${names}; make one with subjectAltName ${net.isIP(host) === 0 ? 'DNS' : 'IP'}:${host}`);
  }
}
