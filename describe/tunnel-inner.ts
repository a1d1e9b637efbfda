// Another protocol's session carried by a WebSocket tunnel, opened by the agent inside the
// messages a bridge (websockify, wstunnel, a database or TCP bridge) joins into a stream to its
// service: what crosses it was never decided — a raw tunnel behind an allowed upgrade.
// - a TLS (or SSL 3) hello: every command after it is ciphertext no reader judges (twentieth
//   pass: `FLUSHALL` to a redis-server's TLS port behind a bridge ran undecided). The readers
//   refuse a database's own way into TLS (PostgreSQL's SSLRequest, MySQL's SSL flag, TDS
//   encryption); this finds the hello itself wherever it starts (after a STARTTLS line, cut
//   across messages);
// - an SSH identification line (`SSH-2.0-…`): the key exchange follows, then ciphertext;
// - an HTTP/1 request line (`GET /deny HTTP/1.1` to an HTTP server behind the bridge): a request
//   the policy would decide on its own, sent undecided (twentieth pass). Read at every line start
//   as the most lenient server reads one (Python's http.server: three words split at any blank,
//   NEL and NBSP included, the last beginning `HTTP/`), since servers skip blank lines before it
//   and a keep-alive stream holds one request after another.

/** Bytes of a TLS handshake record's start that identify it: record header (5), handshake header (4), version (2). */
const HEAD = 11;

/**
 * Whether `b` at `i` starts a TLS record holding a ClientHello or ServerHello: content type 22,
 * a record version 3.0–3.4, a handshake of type 1 or 2 of a hello's least length in a record of
 * a possible length, and the hello's own version 3.x. Random bytes match one place in ~10^13.
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

/** Blanks Python's `str.split()` splits a latin-1 request line at (CR too: only LF ends the line). */
function blank(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d && c !== 0x0a) || (c >= 0x1c && c <= 0x1f) || c === 0x85 || c === 0xa0;
}

const HTTP = Buffer.from('HTTP/');
const SSH = [Buffer.from('SSH-2.0-'), Buffer.from('SSH-1.99-')];

/** Where a line's start stands: blanks before a word, inside word 1 or 2, blanks after it, or matched so far of `HTTP/`. */
type LineState = { at: 'lead' | 'word1' | 'gap1' | 'word2' | 'gap2' | 'dead' } | { at: 'version'; n: number };

/** Reads the agent's side of a tunnel as one stream; `read` names another protocol's session once one has started in it. */
export class InnerSessionScan {
  /** The last HEAD - 1 bytes of the stream so far: a hello cut across messages. */
  private tail = Buffer.alloc(0);
  private line: LineState = { at: 'lead' };
  /** Bytes of the current line so far, while they may still begin SSH's identification. */
  private lineHead = 0;
  private sshMatch = [true, true];

  read(data: Buffer): string | undefined {
    const b = this.tail.length ? Buffer.concat([this.tail, data]) : data;
    for (let i = b.indexOf(0x16); i !== -1 && i + HEAD <= b.length; i = b.indexOf(0x16, i + 1)) {
      if (helloAt(b, i)) return 'a TLS handshake';
    }
    this.tail = Buffer.from(b.subarray(Math.max(0, b.length - (HEAD - 1))));
    for (const c of data) {
      const found = this.step(c);
      if (found) return found;
    }
    return undefined;
  }

  /** One byte of the stream through the line-start readers (linear: each byte is looked at once). */
  private step(c: number): string | undefined {
    if (c === 0x0a) {
      this.line = { at: 'lead' };
      this.lineHead = 0;
      this.sshMatch = [true, true];
      return undefined;
    }
    if (this.lineHead < 9) {
      for (let k = 0; k < SSH.length; k++) {
        if (!this.sshMatch[k]) continue;
        if (SSH[k]![this.lineHead] !== c) this.sshMatch[k] = false;
        else if (this.lineHead === SSH[k]!.length - 1) return 'an SSH session';
      }
      this.lineHead++;
    }
    const s = this.line;
    const b = blank(c);
    switch (s.at) {
      case 'dead': return undefined;
      case 'lead': this.line = { at: b ? 'lead' : 'word1' }; return undefined;
      case 'word1': if (b) this.line = { at: 'gap1' }; return undefined;
      case 'gap1': if (!b) this.line = { at: 'word2' }; return undefined;
      case 'word2': if (b) this.line = { at: 'gap2' }; return undefined;
      case 'gap2':
        if (b) return undefined;
        this.line = c === HTTP[0] ? { at: 'version', n: 1 } : { at: 'dead' };
        return undefined;
      case 'version':
        if (c !== HTTP[s.n]) {
          this.line = { at: 'dead' };
          return undefined;
        }
        if (s.n === HTTP.length - 1) return 'an HTTP request';
        this.line = { at: 'version', n: s.n + 1 };
        return undefined;
    }
  }
}
