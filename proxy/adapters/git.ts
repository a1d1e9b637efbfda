// Git smart HTTP (git-scm.com/docs/http-protocol): discovery is
// `GET <repo>/info/refs?service=git-upload-pack|git-receive-pack`, then
// `POST <repo>/git-upload-pack` (clone/fetch) or `POST <repo>/git-receive-pack` (push).
// A push is a `write`; when the description previews the body (a text preview of the pkt-line
// command list), a push that deletes a ref is a `delete`. Force pushes cannot be told from the
// request alone (that needs the repository's history), so they stay `write`: policies ask anyway.
import type { RequestInfo, ServiceInfo } from '../../engine/types.ts';
import type { ServiceAdapter } from './adapter.ts';

const services: Record<string, { operation: string; effect: 'read' | 'write' }> = {
  'git-upload-pack': { operation: 'git.fetch', effect: 'read' },
  'git-receive-pack': { operation: 'git.push', effect: 'write' },
};

export function gitSmartHttp(name: string, request: RequestInfo): ServiceInfo | undefined {
  const segs = request.segments;
  let service: string | undefined;
  let repoSegs: string[];
  const last = segs[segs.length - 1];
  if (segs.length >= 3 && segs[segs.length - 2] === 'info' && last === 'refs' && (request.method === 'GET' || request.method === 'HEAD')) {
    const asked = request.query.service ?? [];
    // Dumb-protocol discovery (no service) only reads; several or unknown services fail closed as a push.
    service = asked.length === 0 ? 'git-upload-pack' : asked.length === 1 && asked[0]! in services ? asked[0] : 'git-receive-pack';
    repoSegs = segs.slice(0, -2);
  } else if (segs.length >= 2 && request.method === 'POST' && last !== undefined && last in services) {
    service = last;
    repoSegs = segs.slice(0, -1);
  } else {
    return undefined;
  }
  const { operation } = services[service!]!;
  let effect: ServiceInfo['effect'] = services[service!]!.effect;
  const params: Record<string, unknown> = { repository: repoSegs.join('/').replace(/\.git$/, '') };
  if (repoSegs.length === 2) {
    params.owner = repoSegs[0];
    params.repo = repoSegs[1]!.replace(/\.git$/, '');
  }
  // When the description previews the push body, its ref updates are readable: a new id of all
  // zeros deletes the ref.
  if (request.method === 'POST' && service === 'git-receive-pack' && request.body.text !== undefined) {
    const { updates, complete } = refUpdates(request.body.text);
    if (updates.length) {
      params.refs = updates.map((u) => u.ref);
      const deletes = updates.filter((u) => /^0+$/.test(u.to)).map((u) => u.ref);
      if (deletes.length) {
        params.deletes = deletes;
        effect = 'delete';
      }
      // The command list ran past the preview: a deletion may be in the part not seen.
      if (!complete) {
        params.refs_incomplete = true;
        effect = 'delete';
      }
    }
  }
  return { name, operation, params, effect };
}

/** The ref update commands at the start of a receive-pack request (pkt-lines up to the flush). */
export function refUpdates(text: string): { updates: Array<{ from: string; to: string; ref: string }>; complete: boolean } {
  const updates: Array<{ from: string; to: string; ref: string }> = [];
  let i = 0;
  while (i + 4 <= text.length && updates.length < 10_000) {
    const head = text.slice(i, i + 4);
    if (head === '0000') return { updates, complete: true }; // flush-pkt ends the command list
    const len = /^[0-9a-f]{4}$/.test(head) ? parseInt(head, 16) : NaN;
    if (!(len > 4) || i + len > text.length) break;
    const line = text.slice(i + 4, i + len).split('\0')[0]!.replace(/\n$/, '');
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)$/.exec(line);
    if (!m) break;
    updates.push({ from: m[1]!, to: m[2]!, ref: m[3]! });
    i += len;
  }
  return { updates, complete: false };
}

/** Git smart HTTP to any other host (GitLab, Bitbucket, self-hosted): service "git". */
export const git: ServiceAdapter = {
  name: 'git',
  hosts: () => true,
  describe: (request) => gitSmartHttp('git', request),
};
