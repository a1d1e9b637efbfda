// Twenty-ninth pass: MIME encoded-words (RFC 2047) side by side are one text to a decoder: the
// blanks and folds between them are dropped (§6.2). Python's email package (`msg['Subject']` under
// the default policy, `make_header(decode_header(…))`), Node's mailparser/libmime and every mail
// client join them, so a key split across two words (`=?utf-8?b?c2tfbGl2ZV81MUg=?=
// =?utf-8?b?eFl6…?=`) is read whole, while no spelling of the key is in either word. A head's runs
// were read (proxy/scrub.ts parametersJoined); a body's were not: a `message/rfc822` answer, an
// `.eml` download, a mail catcher's raw message (Mailpit, MailHog), a multipart part's headers.

/** RFC 2047 encoded-words (base64 or Q) in charsets read as bytes here; others are refused by checkHeaderCharsets. */
const ENCODED_WORD = /=\?(utf-8|us-ascii|iso-8859-1|latin1)(?:\*[^?]*)?\?([BbQq])\?([^?\s]*)\?=/gi;

/** One encoded-word's text decoded (latin1 of its bytes). */
function decoded(kind: string, text: string): string {
  return kind === 'b' || kind === 'B' ? Buffer.from(text, 'base64').toString('latin1') : text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Only blanks and line breaks (a fold) between two words. */
const blanksOnly = (text: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
};

/** Each run of two or more encoded-words with only blanks between: where it is in `text` and the text a decoder makes of it. */
export function encodedWordRuns(text: string): Array<{ start: number; end: number; text: string }> {
  const runs: Array<{ start: number; end: number; text: string }> = [];
  if (!text.includes('?=')) return runs;
  let run = '';
  let count = 0;
  let start = -1;
  let end = -1;
  for (const m of text.matchAll(ENCODED_WORD)) {
    if (end < 0 || !blanksOnly(text, end, m.index)) {
      if (count > 1) runs.push({ start, end, text: run });
      run = '';
      count = 0;
      start = m.index;
    }
    run += decoded(m[2]!, m[3]!);
    count++;
    end = m.index + m[0].length;
  }
  if (count > 1) runs.push({ start, end, text: run });
  return runs;
}

/** ENCODED_WORD at the text's end (a literal, so the ReDoS guard reads it as written). */
const WORD_AT_END = /=\?(utf-8|us-ascii|iso-8859-1|latin1)(?:\*[^?]*)?\?([BbQq])\?([^?\s]*)\?=$/i;
/** An encoded-word cut by the end of the text (`=?utf-8?b?c2tf`), or a whole one with blanks after it. */
const OPEN_WORD = /=(?:\?(?:[A-Za-z0-9*_-]{0,40}(?:\?(?:[BbQq](?:\?[^?\s]*\??)?)?)?)?)?$/;
/** How far back a run under way at the end is held (a key is 256 bytes at most in every spelling: a few dozen words). */
const RUN_HOLD = 8 * 1024;

/**
 * Where a run of encoded-words that more text may still continue begins (text.length if none): the
 * text ends inside a word, or in the blanks after one, so the next bytes may add the word that
 * completes a key split across them.
 */
export function encodedRunTail(text: string): number {
  const from = Math.max(0, text.length - RUN_HOLD);
  let end = text.length;
  while (end > from && ' \t\r\n'.includes(text[end - 1]!)) end--;
  let at = text.length;
  // A whole word at the end (a Q word's text may begin with `=`: `=?utf-8?q?=5F` cut after its `?=` is none).
  if (!text.endsWith('?=', end) || !WORD_AT_END.test(text.slice(Math.max(from, end - 200), end))) {
    // Not a whole word at the end: a word cut short, or nothing (most texts: one look at their last bytes).
    const open = end === text.length ? OPEN_WORD.exec(text.slice(Math.max(from, end - 200))) : null;
    if (!open) return text.length;
    at = end - open[0].length;
    end = at;
    while (end > from && ' \t\r\n'.includes(text[end - 1]!)) end--;
  }
  // Back over the whole words before it, blanks between.
  const words = [...text.slice(from, end).matchAll(ENCODED_WORD)];
  for (let k = words.length - 1; k >= 0; k--) {
    const w = words[k]!;
    if (!blanksOnly(text, from + w.index + w[0].length, at)) break;
    at = from + w.index;
  }
  return at;
}
