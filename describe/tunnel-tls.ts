// A TLS (or SSL 3) handshake carried by a WebSocket tunnel: an agent behind a bridge
// (websockify, wstunnel, a Redis or database bridge) runs its own TLS session to the service
// inside the messages, and everything after the hello is ciphertext no reader can judge — a raw
// tunnel the policy never decided (twentieth pass: `FLUSHALL` to a redis-server's TLS port, each
// message relayed unread). The readers refuse a database's own way into TLS (PostgreSQL's
// SSLRequest, MySQL's SSL flag, TDS encryption); this finds the hello itself wherever it starts in
// the stream the bridge joins (at a message start, after a STARTTLS line, cut across messages).

/** Bytes of a handshake record's start that identify it: record header (5), handshake header (4), version (2). */
const HEAD = 11;

/**
 * Whether `b` at `i` starts a TLS record holding a ClientHello or ServerHello: content type 22,
 * a record version 3.0–3.4, a handshake of type 1 or 2 whose length fits the record's, and the
 * hello's own version 3.x. Random bytes match one place in ~10^13.
 */
function helloAt(b: Buffer, i: number): boolean {
  if (b[i] !== 0x16 || b[i + 1] !== 0x03 || b[i + 2]! > 0x04) return false;
  const record = b.readUInt16BE(i + 3);
  const type = b[i + 5];
  if (type !== 0x01 && type !== 0x02) return false;
  const hs = (b[i + 6]! << 16) | (b[i + 7]! << 8) | b[i + 8]!;
  // A record holds at most 2^14 bytes (+2048 of expansion); a hello at least 38 (version, random, lengths).
  if (record < 4 + 38 || record > 0x4800 || hs < 38) return false;
  return b[i + 9] === 0x03 && b[i + 10]! <= 0x04;
}

/** Reads the agent's side of a tunnel as one stream; `read` is true once a TLS hello has started in it. */
export class TlsHelloScan {
  /** The last HEAD - 1 bytes of the stream so far: a hello cut across messages. */
  private tail = Buffer.alloc(0);

  read(data: Buffer): boolean {
    const b = this.tail.length ? Buffer.concat([this.tail, data]) : data;
    for (let i = b.indexOf(0x16); i !== -1 && i + HEAD <= b.length; i = b.indexOf(0x16, i + 1)) {
      if (helloAt(b, i)) return true;
    }
    this.tail = Buffer.from(b.subarray(Math.max(0, b.length - (HEAD - 1))));
    return false;
  }
}
