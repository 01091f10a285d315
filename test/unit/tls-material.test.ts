/**
 * tlsMaterial: the TLS files of a config are read once and checked at start,
 * and each wrong file is one error naming the file and what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tlsMaterial } from '../../src/http/tls-material';
import { ConfigError, type TlsFiles } from '../../utils/config';
import { makeCa, makeCertificate, type TestCa } from '../support/certs';

let dir: string;
let ca: TestCa;
let files: TlsFiles;
const self = { id: 1, url: 'https://127.0.0.1:8443' };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-tls-material-'));
  ca = makeCa(dir, 'cluster');
  files = { ...makeCertificate(ca, { dir, name: 'node-1' }), ca_file: ca.ca_file };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('reads the certificate, key and CA', () => {
  const material = tlsMaterial({ tls: files }, self);
  expect(material.cert).toEqual(fs.readFileSync(files.cert_file));
  expect(material.key).toEqual(fs.readFileSync(files.key_file));
  expect(material.ca).toEqual(fs.readFileSync(files.ca_file));
  expect(() => tlsMaterial({ tls: files }, { id: 1, url: 'https://localhost:8443' })).not.toThrow();
  expect(() => tlsMaterial({ tls: files }, { id: 1, url: 'https://[::1]:8443' })).not.toThrow();
});

function refusal(tls: TlsFiles, node = self): string {
  try {
    tlsMaterial({ tls }, node);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('tlsMaterial accepted it');
}

it('names a file that is missing, and where to learn how to make it', () => {
  expect(refusal({ ...files, cert_file: path.join(dir, 'none.crt') })).toMatch(/^cannot read tls.cert_file .*none\.crt: no such file \(the README's TLS section shows how/);
});

it('refuses a file that is not PEM, and a CA file without a certificate', () => {
  const text = path.join(dir, 'text.pem');
  fs.writeFileSync(text, 'hello');
  expect(refusal({ ...files, ca_file: text })).toMatch(/tls.ca_file .*text\.pem is not a PEM file/);
  expect(refusal({ ...files, ca_file: files.key_file })).toMatch(/tls.ca_file .*node-1\.key holds no certificate/);
});

it('refuses a key that is not the certificate\'s', () => {
  const other = makeCertificate(ca, { dir, name: 'node-other' });
  expect(refusal({ ...files, key_file: other.key_file })).toMatch(/the key and certificates do not load together \(.*\); is tls.key_file .*node-other\.key the key of tls.cert_file/);
  expect(refusal({ ...files, key_file: files.cert_file })).toMatch(/tls.key_file .* holds no usable private key/);
});

it('refuses a certificate another CA signed: peers would refuse it', () => {
  const stranger = makeCa(dir, 'stranger');
  const foreign = makeCertificate(stranger, { dir, name: 'node-foreign' });
  expect(refusal({ ...files, ...foreign })).toMatch(/\(issuer CN=ddb test CA stranger\) is not signed by the CA in tls.ca_file .*\(CN=ddb test CA cluster\), so peers would refuse it/);
});

it('refuses a certificate that is not for the host of the node\'s URL, naming the names it has', () => {
  expect(refusal(files, { id: 2, url: 'https://10.1.2.3:8443' })).toMatch(
    /is not for 10\.1\.2\.3, the host of node 2's URL: it names IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost; make one with subjectAltName IP:10\.1\.2\.3/,
  );
  expect(refusal(files, { id: 2, url: 'https://db2.example:8443' })).toMatch(/is not for db2\.example.*subjectAltName DNS:db2\.example/);
});
