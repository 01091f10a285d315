import { Random } from '../support/random';
import { clusterOf } from './node/node-scenarios';
it('x', async () => {
  const { cluster } = clusterOf(new Random(Number(process.env.S)));
  const lines: string[] = [cluster.recentTrace()];
  let last = '';
  for (let t = 0; t < 1500; t += 1) {
    await cluster.run(1);
    const now = cluster.members.map((m) => { const s = m.status(); return `${m.id}:${s?.role[0]}${s?.pre_candidate ? 'p' : ''}${s?.term}v${(m.node as any)?.replica?.vote}l${s?.last_index}`; }).join(' ');
    if (now !== last) { lines.push(`${cluster.now_ms()} ${now}`); last = now; }
  }
  console.log(lines.slice(0, 60).join('\n'));
});
