// What a held request's forwarding headers say, for the approval card and `airlock approvals show`
// (pure: bundled into the browser app and imported by the CLI).

/**
 * Hosts a forwarding header names other than the request's (`X-Forwarded-Host`, `Forwarded:
 * host=`): Express with `trust proxy`, Django, Symfony and Spring serve that host. The proxy refuses
 * them on a request no human looks at (proxy/http-util.ts otherForwardedHost); a held one comes here.
 */
export function forwardedHosts(headers: Record<string, string[] | string>, host: string | undefined, port: number | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const own = (host ?? '').toLowerCase().replace(/\.$/, '');
  for (const [name, values] of Object.entries(headers)) {
    const n = name.toLowerCase().replaceAll('_', '-');
    if (n !== 'x-forwarded-host' && n !== 'forwarded') continue;
    for (const value of Array.isArray(values) ? values : [values]) {
      const named = n === 'x-forwarded-host'
        ? String(value).split(',')
        : String(value).split(/[,;]/).filter((p) => /^\s*host\s*=/i.test(p)).map((p) => p.slice(p.indexOf('=') + 1).replace(/^\s*"|"\s*$/g, ''));
      for (const raw of named) {
        const h = raw.trim();
        const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(h);
        const same = m && m[1]!.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '') === own.replace(/^\[|\]$/g, '') && (m[2] === undefined || Number(m[2]) === port);
        if (!same) out.push([name, h]);
      }
    }
  }
  return out;
}
