/**
 * JSON encoding of peer traffic. Everything is JSON except snapshot bytes,
 * which travel as base64 inside `{"$bytes": "..."}`.
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

export function decodeWire<T>(text: string): T {
  return JSON.parse(text, (_key, field: unknown) => {
    if (field !== null && typeof field === 'object' && typeof (field as { $bytes?: unknown }).$bytes === 'string') {
      return new Uint8Array(Buffer.from((field as { $bytes: string }).$bytes, 'base64'));
    }
    return field;
  }) as T;
}
