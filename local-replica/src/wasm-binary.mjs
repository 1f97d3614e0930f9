// Low-level helpers for reading and writing the WebAssembly binary format:
// LEB128 integers, names, vectors and a growable byte writer.

export class WasmError extends Error {}

export class Reader {
  constructor(bytes, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  atEnd() {
    return this.pos >= this.end;
  }

  byte() {
    if (this.pos >= this.end) throw new WasmError('unexpected end of Wasm section');
    return this.bytes[this.pos++];
  }

  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new WasmError('LEB128 u32 too long');
    }
    return result;
  }

  /** Skips a signed LEB128 of any width (s32, s33, s64). */
  skipLeb() {
    while (this.byte() & 0x80);
  }

  bytesN(n) {
    if (this.pos + n > this.end) throw new WasmError('unexpected end of Wasm section');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name() {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytesN(this.u32()));
  }
}

export class Writer {
  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.len = 0;
  }

  ensure(extra) {
    if (this.len + extra <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b) {
    this.ensure(1);
    this.buf[this.len++] = b;
    return this;
  }

  bytes(arr) {
    this.ensure(arr.length);
    this.buf.set(arr, this.len);
    this.len += arr.length;
    return this;
  }

  u32(value) {
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of a BigInt or number. */
  sleb(value) {
    let v = BigInt(value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  name(str) {
    const enc = new TextEncoder().encode(str);
    this.u32(enc.length);
    return this.bytes(enc);
  }

  /** Writes a length-prefixed copy of another writer's content. */
  sized(inner) {
    this.u32(inner.len);
    return this.bytes(inner.finish());
  }

  finish() {
    return this.buf.subarray(0, this.len);
  }
}

export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f };

export const SectionId = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12,
};

/** Splits a module into its sections: [{id, start, end}] (payload byte ranges). */
export function readSections(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmError('not a WebAssembly module (bad magic)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmError('unsupported WebAssembly binary version');
  }
  const r = new Reader(bytes, 8);
  const sections = [];
  while (!r.atEnd()) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    if (start + size > bytes.length) throw new WasmError(`section ${id} runs past the end of the module`);
    sections.push({ id, start, end: start + size });
    r.pos = start + size;
  }
  return sections;
}

/** Reads limits (memory or table): {flags, min, max?}. */
export function readLimits(r) {
  const flags = r.byte();
  if (flags & ~0x01) {
    throw new WasmError(flags & 0x02 ? 'shared memories (threads) are not supported' : 'memory64 is not supported by this host');
  }
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : undefined;
  return { min, max };
}

export function writeLimits(w, { min, max }) {
  w.byte(max === undefined ? 0 : 1).u32(min);
  if (max !== undefined) w.u32(max);
}
