// Making a write durable: on the disk itself, not only in the page cache, so a power loss or a
// kernel crash cannot undo it (a process restart never does). A file's data is synced by fsync on
// any descriptor of it; a rename into a folder by fsync on the folder.
import fs from 'node:fs';

/** fsync of a file or folder by path. A folder that cannot be opened for it (Windows) is left as it is. */
export async function syncPath(target: string): Promise<void> {
  let h: fs.promises.FileHandle;
  try {
    h = await fs.promises.open(target, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM' || code === 'EACCES') return;
    throw err;
  }
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
