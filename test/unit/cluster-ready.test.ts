/** The local cluster's ready line: who is master, where every node is, and a command to try (with the CA for https). */
import { readyBanner } from '../../src/cli/cluster-ready';

const nodes = [{ id: 1, url: 'http://127.0.0.1:8080' }, { id: 2, url: 'http://127.0.0.1:8081' }];

it('names the master, the slaves and a curl to try', () => {
  expect(readyBanner(nodes, 2)).toBe('cluster ready: master node 2 http://127.0.0.1:8081, slaves node 1 http://127.0.0.1:8080; try: curl -s http://127.0.0.1:8081/status (Ctrl-C stops every node)');
});

it('gives curl the CA when the nodes speak https', () => {
  const https = nodes.map((node) => ({ ...node, url: node.url.replace('http:', 'https:') }));
  expect(readyBanner(https, 1, '/etc/ddb/ca.crt')).toMatch(/; try: curl -s --cacert \/etc\/ddb\/ca\.crt https:\/\/127\.0\.0\.1:8080\/status /);
  expect(readyBanner(https, 1, '/etc/ddb/ca.crt', true)).toMatch(/; try: curl -s --cacert \/etc\/ddb\/ca\.crt -u USER:PASSWORD https:\/\/127\.0\.0\.1:8080\/status /);
});
