/** Protected mode's verdicts: which hosts are loopback, and what a node off loopback needs to start. */
import { isLoopbackHost, protectedMode } from '../../src/cli/protected-mode';

const tls = { cert_file: '/c/node.crt', key_file: '/c/node.key', ca_file: '/c/ca.crt' };
const base = { insecure: false, cluster_secret_file: '/c/cluster.key' };
const loopback = [{ id: 1, url: 'http://127.0.0.1:8080' }, { id: 2, url: 'http://localhost:8081' }];
const exposed = { id: 3, url: 'http://10.0.0.3:8082' };

it.each([
  ['127.0.0.1', true], ['127.255.1.2', true], ['localhost', true], ['LOCALHOST', true], ['[::1]', true], ['[::ffff:7f00:1]', true],
  ['10.0.0.1', false], ['0.0.0.0', false], ['[::]', false], ['128.0.0.1', false], ['db.example', false], ['localhost.example', false], ['[::ffff:a00:1]', false],
])('isLoopbackHost(%s) is %s', (host, expected) => {
  expect(isLoopbackHost(host)).toBe(expected);
});

it('lets a cluster on loopback run without users, and says once that the API is open', () => {
  expect(protectedMode(base, loopback)).toEqual({ kind: 'open_on_loopback', notice: expect.stringMatching(/^every node is on loopback and no users_file is set: the public API is open to every program on this machine/) });
  expect(protectedMode(base, loopback.slice(0, 1))).toMatchObject({ notice: expect.stringMatching(/^node 1 is on loopback/) });
  expect(protectedMode({ ...base, users_file: '/c/users.json' }, loopback)).toEqual({ kind: 'protected' });
});

it('refuses a node off loopback without users and TLS, saying which are missing and how to set them', () => {
  const verdict = protectedMode(base, [exposed], '/etc/ddb/config.json');
  expect(verdict.kind).toBe('refused');
  const message = (verdict as { message: string }).message;
  expect(message).toMatch(/^node 3 \(10\.0\.0\.3:8082\) is not on a loopback address, so protected mode asks for users, TLS and peer authentication before serving; missing: users and TLS\./);
  expect(message).toMatch(/\n {2}- users: set "users_file" to a file of users/);
  expect(message).toMatch(/\n {2}- TLS: make every URL https:\/\/ and set "tls": \{"cert_file"/);
  expect(message).toMatch(/peer authentication is on: the cluster key \/c\/cluster\.key/);
  expect(message).toMatch(/Set them in \/etc\/ddb\/config\.json, or, to run without them on purpose \(a private network you trust\), set "insecure": true there\.$/);
});

it('names only what is missing', () => {
  const https = { ...exposed, url: 'https://10.0.0.3:8082' };
  expect(protectedMode({ ...base, tls }, [https])).toMatchObject({ kind: 'refused', message: expect.stringMatching(/missing: users\.\n {2}- users: [^\n]*\n {2}\(peer/) });
  expect(protectedMode({ ...base, users_file: '/c/users.json' }, [exposed])).toMatchObject({ kind: 'refused', message: expect.stringMatching(/missing: TLS\.\n {2}- TLS: /) });
  expect(protectedMode({ ...base, tls, users_file: '/c/users.json' }, [https])).toEqual({ kind: 'protected' });
});

it('lets "insecure": true start a node off loopback, with a warning naming what it lacks', () => {
  expect(protectedMode({ ...base, insecure: true }, [...loopback, exposed])).toEqual({
    kind: 'insecure',
    notice: '"insecure": true: node 3 (10.0.0.3:8082) serves without users and TLS; anyone who can reach it can read and change every database, and see its traffic',
  });
  expect(protectedMode({ ...base, insecure: true }, loopback).kind).toBe('open_on_loopback');
});
