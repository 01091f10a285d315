/**
 * Node flags every ddb node process runs with: `npm start` (package.json, which
 * test/unit/runtime-flags.test.ts keeps in step with this list), the children
 * of a local cluster, and the test and benchmark clusters.
 *
 * --max-semi-space-size=8 (MB): V8's young generation holds each request's
 * short-lived objects. Its default lets each semi-space grow to 16 MB, and
 * under a steady write load the whole young generation stays resident. With
 * 8 MB a node holds ~10 MB less right after 1,000,000 inserts through the
 * master (192–195 MB per node against 203–205 MB, same code, same load), at the
 * same throughput. V8 reads the size once, when the process starts, so it must be a
 * command-line flag: setting it from inside the process has no effect.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
