// A folder tree read breadth first within a budget of entries and time: what a run looks through
// after (planted files) or before (files holding a real value) must not stall on a huge tree.
import fs from 'node:fs';
import path from 'node:path';

/** What is left of a walk's budget; shared with other reads that count against it. */
export interface WalkBudget {
  left: number;
  until: number;
}

/**
 * Visits every entry under `root`, folder by folder, each entry counting one against `budget`;
 * `visit` says whether to go into a folder entry (`depth`: that of the folder it stands in, 0 for
 * `root`). Unreadable folders are passed over. False when the budget ran out before the end.
 */
export function walkFolders(root: string, budget: WalkBudget, visit: (dir: string, entry: fs.Dirent, depth: number) => boolean): boolean {
  const queue: Array<{ dir: string; depth: number }> = [{ dir: root, depth: 0 }];
  while (queue.length) {
    const { dir, depth } = queue.shift()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (--budget.left < 0 || Date.now() > budget.until) return false;
      if (visit(dir, e, depth) && e.isDirectory()) queue.push({ dir: path.join(dir, e.name), depth: depth + 1 });
    }
  }
  return true;
}
