// The first bytes of a file that may be large or endless (/proc files, a hosts blocklist), read
// synchronously up to a bound.
import fs from 'node:fs';

/** At most `max` bytes from the start of `file`, as latin1 text; '' when it cannot be read. */
export function readFileStart(file: string, max: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(max);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, null);
    return buf.toString('latin1', 0, n);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
