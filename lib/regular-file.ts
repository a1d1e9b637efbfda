// Synchronous reads of files that must be regular files (state documents, records, logs). Opened
// non-blocking: a FIFO or a device at the path (put there by anyone who can write the folder) never
// blocks open(2) nor read(2) on the main thread, which froze every agent's requests and the studio
// for as long as nobody wrote to it (twenty-third pass); such a path is an error naming it.
import fs from 'node:fs';

/** The error for a path that is not a regular file. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  constructor(readonly file: string) {
    super(`${file} is not a regular file (a FIFO, a device or a socket); it is not read`);
  }
}

/** Opens `file` for reading without blocking on a FIFO or a device; throws unless it is a regular file (ENOENT as fs does). */
export function openRegularSync(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  let regular = false;
  try {
    regular = fs.fstatSync(fd).isFile();
  } finally {
    if (!regular) fs.closeSync(fd);
  }
  if (!regular) throw new NotRegularFileError(file);
  return fd;
}

/** readRegularFileSync on a pool thread: a disk that stalls holds that thread, never the event loop. */
export async function readRegularFile(file: string): Promise<string> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw new NotRegularFileError(file);
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** The whole of a regular file as UTF-8 text (fs.readFileSync's errors, and NotRegularFileError). */
export function readRegularFileSync(file: string): string {
  const fd = openRegularSync(file);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
