// A folder tree read breadth first within a budget of entries and time: what a run looks through
// after (planted files) or before (files holding a real value) must not stall on a huge tree.
import fs from 'node:fs';
import path from 'node:path';

/** What is left of a walk's budget; shared with other reads that count against it. */
export interface WalkBudget {
  left: number;
  until: number;
  /**
   * Entries read whatever the time (twenty-second pass, follow-up): on a loaded machine the time
   * ran out on a project of a few files, and the user learnt to pass over a false "too big to
   * check" note. The time bound is for huge trees; a small one is read whole.
   */
  sure?: number;
  /** Set once an entry was refused (the count or the time ran out): what was not read is unknown, not unchanged. */
  ranOut?: boolean;
}

/** Counts one entry against `budget`: true when it has run out (entries, or time past the sure ones). */
export function spent(budget: WalkBudget): boolean {
  if (--budget.left < 0) return (budget.ranOut = true);
  if (budget.sure !== undefined && budget.sure > 0) {
    budget.sure--;
    return false;
  }
  return Date.now() > budget.until && (budget.ranOut = true);
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
      if (spent(budget)) return false;
      if (visit(dir, e, depth) && e.isDirectory()) queue.push({ dir: path.join(dir, e.name), depth: depth + 1 });
    }
  }
  return true;
}
