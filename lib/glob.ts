// Path globs with the semantics of Rego's `glob.match(pattern, ["/"], path)`: `*` is any run of
// characters within one segment, `**` any run across segments, `?` one character within a
// segment; a backslash makes the next character literal (`\*` is a star); everything else is
// literal. Matched by simulating the pattern's automaton over the
// path (every state at once), so the cost is at most pattern length × path length whatever the
// pattern: a glob turned into a backtracking regular expression (`.*a.*a.*b`) is polynomial in the
// path, which the agent chooses.

type Token = { lit: string } | { star: true } | { globstar: true } | { one: true };

function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      out.push({ lit: pattern[++i]! });
    } else if (c === '*' && pattern[i + 1] === '*') {
      out.push({ globstar: true });
      i++;
    } else if (c === '*') out.push({ star: true });
    else if (c === '?') out.push({ one: true });
    else out.push({ lit: c });
  }
  return out;
}

export function globMatch(pattern: string, path: string): boolean {
  const toks = tokens(pattern);
  const n = toks.length;
  let active = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  // Stars match the empty run: a state before a star also stands after it.
  const close = (set: Uint8Array): void => {
    for (let k = 0; k < n; k++) if (set[k] && !('lit' in toks[k]!) && !('one' in toks[k]!)) set[k + 1] = 1;
  };
  active[0] = 1;
  close(active);
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    next.fill(0);
    let alive = false;
    for (let k = 0; k < n; k++) {
      if (!active[k]) continue;
      const t = toks[k]!;
      let to = -1;
      if ('lit' in t) to = t.lit === c ? k + 1 : -1;
      else if ('one' in t) to = c !== '/' ? k + 1 : -1;
      else if ('star' in t) to = c !== '/' ? k : -1;
      else to = k;
      if (to >= 0) {
        next[to] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close(next);
    [active, next] = [next, active];
  }
  return active[n] === 1;
}

/** A path as a glob (Rego's glob.match / globMatch) that matches that path and nothing else. */
export function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}\\]/g, '\\$&');
}
