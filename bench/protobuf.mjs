// Just enough of the protobuf wire format to write an ONNX model: varints, length-delimited fields and
// nothing else. A message is built as an array of byte chunks and flattened once at the end, so nested
// messages cost one copy.
//
// Wire types (protobuf encoding spec): 0 = varint, 2 = length-delimited (strings, bytes, sub-messages).
// ONNX's .proto is proto2, so repeated scalars are written unpacked: one tag per element.

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const utf8 = new TextEncoder();

/** Bytes of a non-negative integer as a base-128 varint (low groups first, high bit = more follows). */
function varint(value) {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError(`negative varint ${value}: not needed by this encoder`);
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

function tag(field, wireType) {
  return varint((field << 3) | wireType);
}

/** A protobuf message under construction: call the field writers in field order, then `bytes()`. */
export class Message {
  #chunks = [];
  #length = 0;

  #push(chunk) {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return this;
  }

  /** An integer field (int32, int64, enum), written as a varint. */
  int(field, value) {
    this.#push(tag(field, VARINT));
    return this.#push(varint(value));
  }

  /** A repeated integer field, unpacked (proto2's default). */
  ints(field, values) {
    for (const v of values) this.int(field, v);
    return this;
  }

  /** A bytes field: raw bytes as they are. */
  raw(field, bytes) {
    this.#push(tag(field, LENGTH_DELIMITED));
    this.#push(varint(bytes.length));
    return this.#push(bytes);
  }

  /** A string field, UTF-8. */
  string(field, text) {
    return this.raw(field, utf8.encode(text));
  }

  /** A repeated string field. */
  strings(field, texts) {
    for (const t of texts) this.string(field, t);
    return this;
  }

  /** A sub-message field. */
  message(field, msg) {
    return this.raw(field, msg.bytes());
  }

  /** A repeated sub-message field. */
  messages(field, msgs) {
    for (const m of msgs) this.message(field, m);
    return this;
  }

  /** The encoded message. */
  bytes() {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
