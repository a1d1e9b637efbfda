// An HTTPS origin on port 443 of a loopback address of its own (127.x.y.z), for attacks against
// the default policy, which binds credentials only to port 443: `--resolve NAME=127.x.y.z` then
// sends a real service name there. A fresh address per run keeps parallel test files apart.
// Binding port 443 needs root (the CI runs as root); elsewhere the caller skips.
import crypto from 'node:crypto';
import { startUpstream, type Teardown, type Upstream, type UpstreamOptions } from './helpers.ts';

export async function upstreamOn443(t: Teardown, opts: UpstreamOptions): Promise<Upstream | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [a, b, c] = crypto.randomBytes(3);
    const host = `127.${(a! % 200) + 20}.${b}.${(c! % 250) + 2}`;
    try {
      return await startUpstream(t, { ...opts, host, port: 443 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return undefined;
      if (code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error('no free loopback address for port 443');
}
