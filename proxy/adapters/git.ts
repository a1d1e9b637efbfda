// Git smart HTTP (git-scm.com/docs/http-protocol): discovery is
// `GET <repo>/info/refs?service=git-upload-pack|git-receive-pack`, then
// `POST <repo>/git-upload-pack` (clone/fetch) or `POST <repo>/git-receive-pack` (push).
// A push's ref updates (including deletions and force pushes) travel in a binary pkt-line body the
// description does not parse, so every push is a `write` and policies should ask before it.
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
  const { operation, effect } = services[service!]!;
  const params: Record<string, unknown> = { repository: repoSegs.join('/').replace(/\.git$/, '') };
  if (repoSegs.length === 2) {
    params.owner = repoSegs[0];
    params.repo = repoSegs[1]!.replace(/\.git$/, '');
  }
  return { name, operation, params, effect };
}

/** Git smart HTTP to any other host (GitLab, Bitbucket, self-hosted): service "git". */
export const git: ServiceAdapter = {
  name: 'git',
  hosts: () => true,
  describe: (request) => gitSmartHttp('git', request),
};
