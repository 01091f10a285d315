/**
 * JSON encoding of peer traffic. Everything is JSON except snapshot bytes,
 * which travel as base64 inside `{"$bytes": "..."}`.
 */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field instanceof Uint8Array ? { $bytes: Buffer.from(field.buffer, field.byteOffset, field.byteLength).toString('base64') } : field,
  );
}

export function decodeWire<T>(text: string): T {
  return JSON.parse(text, (_key, field: unknown) => {
    if (field !== null && typeof field === 'object' && typeof (field as { $bytes?: unknown }).$bytes === 'string') {
      return new Uint8Array(Buffer.from((field as { $bytes: string }).$bytes, 'base64'));
    }
    return field;
  }) as T;
}
