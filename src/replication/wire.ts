/**
 * JSON encoding of peer traffic. Everything is JSON except snapshot bytes,
 * which travel as base64 inside `{"$bytes": "..."}`. A replacer or reviver
 * takes V8 off its fast JSON path, so they run only where bytes can be: in
 * snapshot messages going out, and in texts that mention `"$bytes"` coming in.
 */
export function encodeWire(value: unknown): string {
  // `this[key]` is the value before toJSON: a Buffer would otherwise arrive
  // here already turned into {type: 'Buffer', data: [...]} by Buffer#toJSON.
  return JSON.stringify(value, function replace(this: Record<string, unknown>, key: string, field: unknown) {
    const original = this[key];
    if (original instanceof Uint8Array) {
      return { $bytes: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
    }
    return field;
  });
}

/** Replication messages: only install_snapshot carries bytes. */
export function encodeMessages(messages: ReadonlyArray<{ type: string }>): string {
  const carriesBytes = messages.some((message) => message.type === 'install_snapshot');
  return carriesBytes ? encodeWire({ messages }) : JSON.stringify({ messages });
}

export function decodeWire<T>(text: string): T {
  if (!text.includes('"$bytes"')) return JSON.parse(text) as T;
  return JSON.parse(text, (_key, field: unknown) => {
    if (field !== null && typeof field === 'object' && typeof (field as { $bytes?: unknown }).$bytes === 'string') {
      return new Uint8Array(Buffer.from((field as { $bytes: string }).$bytes, 'base64'));
    }
    return field;
  }) as T;
}
