/**
 * What the nodes of a local cluster print, passed on in one stream. On a
 * terminal every line gets its node's prefix (`[node 2] …`); otherwise every
 * line is a JSON object, as the nodes write them (DDB_LOG_FORMAT=json), and a
 * line that is not JSON (a crash's stack trace) is wrapped in one, so a log
 * collector can parse the whole stream.
 */
import readline from 'node:readline';

export function forwardNodeOutput(options: {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  node_id: number;
  pretty: boolean;
  stream: 'stdout' | 'stderr';
}): void {
  const { input, output, node_id, pretty, stream } = options;
  readline.createInterface({ input }).on('line', (line) => {
    if (pretty) output.write(`[node ${node_id}] ${line}\n`);
    else if (line.startsWith('{')) output.write(`${line}\n`);
    else output.write(`${JSON.stringify({ level: stream === 'stderr' ? 'error' : 'info', message: line, node_id, stream })}\n`);
  });
}
