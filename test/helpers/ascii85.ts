// ASCII85 as PDF writers write it (ReportLab's `/ASCII85Decode` streams) and a reader decodes it,
// for tests of PDF exports read from answers; independent of proxy/packed-pdf.ts.

/** `b` as ASCII85: `z` for a zero group, lines of 75 characters, `~>` at the end. */
export function ascii85(b: Buffer): string {
  let out = '';
  for (let i = 0; i < b.length; i += 4) {
    const n = Math.min(4, b.length - i);
    const q = Buffer.alloc(4);
    b.copy(q, 0, i, i + n);
    let v = q.readUInt32BE(0);
    if (v === 0 && n === 4) {
      out += 'z';
      continue;
    }
    let group = '';
    for (let k = 0; k < 5; k++, v = Math.floor(v / 85)) group = String.fromCharCode(33 + (v % 85)) + group;
    out += group.slice(0, n + 1);
  }
  return `${out.replace(/.{75}(?=.)/g, '$&\n')}~>`;
}

/** The bytes of ASCII85 text (white space skipped, up to `~>` or the end: what a reader gets of a cut one). */
export function fromAscii85(text: string): Buffer {
  const chars = text.split('~>')[0]!.replace(/\s/g, '').replace(/z/g, '!!!!!');
  const bytes: number[] = [];
  for (let i = 0; i < chars.length; i += 5) {
    let v = 0;
    for (const c of chars.slice(i, i + 5).padEnd(5, 'u')) v = v * 85 + c.charCodeAt(0) - 33;
    bytes.push(...[v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].slice(0, Math.min(4, chars.length - i - 1)));
  }
  return Buffer.from(bytes);
}

/** Each ASCII85 or hex text after a PDF `stream` keyword in `text`, decoded (a stream cut short too). */
export function pdfTextStreams(text: string): Buffer[] {
  return [
    ...[...text.matchAll(/stream\r?\n?([!-uz\s]+)(?:~>|$)/g)].map((m) => fromAscii85(m[1]!)),
    ...[...text.matchAll(/stream\r?\n?([0-9a-fA-F\s]+)/g)].map((m) => Buffer.from(m[1]!.replace(/\s/g, ''), 'hex')),
  ];
}
