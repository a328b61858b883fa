/**
 * A canonical binary encoding of a detector's plain state (numbers, strings, booleans,
 * undefined/null, arrays, Float64Array/Int32Array/Uint8Array and objects of those), for
 * checkpoints. Canonical: the same state gives the same bytes however it was built, so the
 * demo's state digest of a resumed run equals an uninterrupted run's. `v8.serialize` is not:
 * it writes a number as an int32 or a double depending on how V8 happens to hold it, and a
 * restored state holds some differently.
 *
 * @example
 * const bytes = encodeState({ n: 3, w: new Float64Array([0.5]) });
 * const back = decodeState(bytes) as { n: number; w: Float64Array };
 */

const enum Tag {
  Undefined,
  Null,
  False,
  True,
  Number,
  String,
  Array,
  F64,
  I32,
  U8,
  Object,
}

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function write(w: Writer, v: unknown, path: string): void {
  if (v === undefined) w.u8(Tag.Undefined);
  else if (v === null) w.u8(Tag.Null);
  else if (typeof v === 'boolean') w.u8(v ? Tag.True : Tag.False);
  else if (typeof v === 'number') {
    w.u8(Tag.Number);
    w.f64(v);
  } else if (typeof v === 'string') {
    w.u8(Tag.String);
    w.bytes(utf8.encode(v));
  } else if (Array.isArray(v)) {
    w.u8(Tag.Array);
    w.u32(v.length);
    v.forEach((x, i) => write(w, x, `${path}[${i}]`));
  } else if (v instanceof Float64Array) {
    w.u8(Tag.F64);
    w.u32(v.length);
    for (const x of v) w.f64(x);
  } else if (v instanceof Int32Array || v instanceof Uint8Array) {
    w.u8(v instanceof Int32Array ? Tag.I32 : Tag.U8);
    w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (typeof v === 'object') {
    const keys = Object.keys(v);
    w.u8(Tag.Object);
    w.u32(keys.length);
    for (const k of keys) {
      w.bytes(utf8.encode(k));
      write(w, (v as Record<string, unknown>)[k], `${path}.${k}`);
    }
  } else throw new Error(`encodeState: cannot encode ${typeof v} at ${path || 'the root'}`);
}

/** The state's bytes (object keys in their own order: build states in one order). */
export function encodeState(state: unknown): Uint8Array {
  const w = new Writer();
  write(w, state, '');
  return w.done();
}

/** The state `encodeState` wrote: plain objects, arrays and typed arrays of their own. */
export function decodeState(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    at += n;
    if (at > bytes.length) throw new Error('decodeState: truncated state');
  };
  const u32 = () => (need(4), view.getUint32(at - 4, true));
  const f64 = () => (need(8), view.getFloat64(at - 8, true));
  const raw = () => {
    const n = u32();
    need(n);
    // A copy of its own (a Buffer's slice would be a view, at any alignment).
    const out = new Uint8Array(n);
    out.set(bytes.subarray(at - n, at));
    return out;
  };
  const read = (): unknown => {
    if (at >= bytes.length) throw new Error('decodeState: truncated state');
    const tag = bytes[at++] as Tag;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Number:
        return f64();
      case Tag.String:
        return fromUtf8.decode(raw());
      case Tag.Array:
        return Array.from({ length: u32() }, read);
      case Tag.F64: {
        const out = new Float64Array(u32());
        for (let i = 0; i < out.length; i++) out[i] = f64();
        return out;
      }
      case Tag.I32: {
        const b = raw();
        return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      }
      case Tag.U8:
        return raw();
      case Tag.Object: {
        const o: Record<string, unknown> = {};
        for (let n = u32(); n > 0; n--) o[fromUtf8.decode(raw())] = read();
        return o;
      }
      default:
        throw new Error(`decodeState: unknown tag ${tag as number} at byte ${at - 1}`);
    }
  };
  const state = read();
  if (at !== bytes.length) throw new Error(`decodeState: ${bytes.length - at} bytes left over`);
  return state;
}
