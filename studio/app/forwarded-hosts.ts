// What a held request's forwarding headers say, and which of its header names a server reads as one,
// for the approval card and `airlock approvals show` (pure: bundled into the browser app and
// imported by the CLI).

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

/**
 * Header names a CGI-style server reads as one header: CGI, FastCGI (PHP-FPM), Python's wsgiref
 * and Rack key a header by its name with every separator read alike (`HTTP_X_ACCOUNT`), so
 * `X-Account: acct_platform` and `X_Account: acct_evil` are one header, whose first or last value
 * the server takes by the order sent (twenty-sixth pass). The card lists them as two: each group of
 * two or more names, in the order first sent (the description's order).
 */
export function oneHeaderNames(headers: Record<string, string[] | string>): string[][] {
  const by = new Map<string, string[]>();
  for (const name of Object.keys(headers)) {
    const key = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
    by.set(key, [...(by.get(key) ?? []), name]);
  }
  return [...by.values()].filter((names) => names.length > 1);
}
