// Git smart HTTP (git-scm.com/docs/http-protocol): discovery is
// `GET <repo>/info/refs?service=git-upload-pack|git-receive-pack`, then
// `POST <repo>/git-upload-pack` (clone/fetch) or `POST <repo>/git-receive-pack` (push).
// A push is a `write`; when the description previews the body (a text preview of the pkt-line
// command list), a push that deletes a ref is a `delete`. A force push sends the same command as a
// fast-forward; the pack it carries tells them apart only where it proves the fast-forward
// (../git-pack.ts, read in describe.ts: `params.unproven_updates`, which no grant covers), so the
// effect stays `write`: policies ask anyway.
import type { RequestInfo, ServiceInfo } from '../types.ts';
import type { ServiceAdapter } from './adapter.ts';
import { lookupTable } from '../../lib/records.ts';

const services: Readonly<Record<string, { operation: string; effect: 'read' | 'write' }>> = lookupTable({
  'git-upload-pack': { operation: 'git.fetch', effect: 'read' },
  'git-receive-pack': { operation: 'git.push', effect: 'write' },
});

export function gitSmartHttp(name: string, request: RequestInfo): ServiceInfo | undefined {
  const segs = request.segments;
  let service: string | undefined;
  let repoSegs: string[];
  const last = segs[segs.length - 1];
  if (segs.length >= 3 && segs[segs.length - 2] === 'info' && last === 'refs' && (request.method === 'GET' || request.method === 'HEAD')) {
    const asked = request.query.service ?? [];
    // Dumb-protocol discovery (no service) only reads; several or unknown services fail closed as a push.
    service = asked.length === 0 ? 'git-upload-pack' : asked.length === 1 && Object.hasOwn(services, asked[0]!) ? asked[0] : 'git-receive-pack';
    repoSegs = segs.slice(0, -2);
  } else if (segs.length >= 2 && request.method === 'POST' && last !== undefined && Object.hasOwn(services, last)) {
    service = last;
    repoSegs = segs.slice(0, -1);
  } else {
    return undefined;
  }
  const { operation } = services[service!]!;
  let effect: ServiceInfo['effect'] = services[service!]!.effect;
  const params: Record<string, unknown> = { repository: repoSegs.join('/').replace(/\.git$/, '') };
  // The repository is the last segment, its owner the namespace before it (a GitLab group and its
  // subgroups, `group/sub`): both are the place a grant records, whatever the depth.
  if (repoSegs.length >= 2) params.owner = repoSegs.slice(0, -1).join('/');
  params.repo = repoSegs[repoSegs.length - 1]!.replace(/\.git$/, '');
  // The push body's ref update commands are readable from the description: a new id of all zeros
  // deletes the ref. A push whose command list cannot be read whole (cut off, an unknown line, no
  // readable body) may hide a deletion, so it counts as one.
  if (request.method === 'POST' && service === 'git-receive-pack' && request.body.size > 0) {
    const { updates, complete, pushOptions } = request.body.text !== undefined ? refUpdates(request.body.text) : { updates: [], complete: false, pushOptions: [] };
    if (updates.length) params.refs = updates.map((u) => u.ref);
    // Push options are run by the server's hooks (GitLab: `merge_request.create`,
    // `merge_request.merge_when_pipeline_succeeds`, `ci.variable=…`): part of what the push does.
    if (pushOptions.length) params.push_options = pushOptions;
    const deletes = updates.filter((u) => /^0+$/.test(u.to)).map((u) => u.ref);
    if (deletes.length) {
      params.deletes = deletes;
      effect = 'delete';
    }
    if (!complete) {
      params.refs_incomplete = true;
      effect = 'delete';
    }
  }
  return { name, operation, params, effect };
}

export interface RefUpdate {
  from: string;
  to: string;
  ref: string;
}

const pktHead = /^[0-9a-fA-F]{4}$/;
// An object id: SHA-1 (40) or SHA-256 (64) hex digits; git's hex parser accepts either case.
const command = /^([0-9a-fA-F]{40}|[0-9a-fA-F]{64}) ([0-9a-fA-F]{40}|[0-9a-fA-F]{64}) ([^\s]+)$/;
const MAX_COMMANDS = 10_000;
/** Push options read; past it the list is cut off and the push counts as unread (refs_incomplete). */
const MAX_PUSH_OPTIONS = 1_000;

/**
 * The ref update commands of a receive-pack request, read as git's receive-pack reads them
 * (gitprotocol-pack, "Reference Update Request"): pkt-lines with 4 hex digit lengths in either
 * case, any `shallow <id>` lines, then either the command list (capabilities after a NUL on the
 * first) up to a flush, or a signed `push-cert` block whose commands follow its blank line.
 * `complete` is false when anything else appears or the list is cut off.
 */
export function refUpdates(text: string): { updates: RefUpdate[]; complete: boolean; pushOptions: string[] } {
  const updates: RefUpdate[] = [];
  let i = 0;
  let sawCommand = false;
  let cert: string[] | undefined;
  let capabilities: string[] | undefined;
  // With the `push-options` capability, option lines follow the command list up to a flush
  // (gitprotocol-pack "push-options"). After a push certificate a flush may come first.
  const withOptions = (updates: RefUpdate[], complete: boolean, afterCert: boolean) => {
    if (!complete || !capabilities?.includes('push-options')) return { updates, complete, pushOptions: [] };
    const { options, complete: read } = pushOptionLines(text, i, afterCert);
    return { updates, complete: read, pushOptions: options };
  };
  while (i + 4 <= text.length && updates.length < MAX_COMMANDS) {
    const head = text.slice(i, i + 4);
    if (!pktHead.test(head)) break;
    const len = parseInt(head, 16);
    if (len === 0) {
      if (cert) break; // a flush inside a push certificate
      i += 4;
      return withOptions(updates, true, false); // flush-pkt ends the command list (or an empty push)
    }
    if (len < 4 || i + len > text.length) break; // delim/response-end packets do not belong here; or cut off
    const payload = text.slice(i + 4, i + len);
    i += len;
    const nul = payload.indexOf('\0');
    const line = (nul < 0 ? payload : payload.slice(0, nul)).replace(/\n$/, '');
    // Capabilities ride on the first line after a NUL (a command's, or `push-cert`'s).
    if (capabilities === undefined && nul >= 0) capabilities = payload.slice(nul + 1).replace(/\n$/, '').split(' ').filter(Boolean);
    if (cert) {
      if (line === 'push-cert-end') {
        return withOptions(updates, certCommands(cert, updates), true);
      }
      cert.push(line);
      continue;
    }
    if (!sawCommand && line.startsWith('shallow ')) continue;
    if (!sawCommand && line === 'push-cert') {
      cert = [];
      continue;
    }
    const m = command.exec(line);
    if (!m) break;
    sawCommand = true;
    updates.push({ from: m[1]!.toLowerCase(), to: m[2]!.toLowerCase(), ref: m[3]! });
  }
  return { updates, complete: false, pushOptions: [] };
}

/**
 * The push options from `start`: pkt-lines up to a flush (after a certificate, a flush before them
 * is skipped, as either reading may be the server's). Cut off or unreadable: not complete.
 */
function pushOptionLines(text: string, start: number, afterCert: boolean): { options: string[]; complete: boolean } {
  const options: string[] = [];
  let i = start;
  if (afterCert && text.slice(i, i + 4) === '0000') i += 4;
  while (i + 4 <= text.length && options.length < MAX_PUSH_OPTIONS) {
    const head = text.slice(i, i + 4);
    if (!pktHead.test(head)) break;
    const len = parseInt(head, 16);
    if (len === 0) return { options, complete: true };
    if (len < 4 || i + len > text.length) break;
    options.push(text.slice(i + 4, i + len).replace(/\n$/, ''));
    i += len;
  }
  return { options, complete: false };
}

/** Commands inside a push certificate: the lines after its first blank line, before the signature. */
function certCommands(lines: string[], updates: RefUpdate[]): boolean {
  const blank = lines.indexOf('');
  if (blank < 0) return false;
  for (const line of lines.slice(blank + 1)) {
    if (line.startsWith('-----BEGIN')) return true;
    const m = command.exec(line);
    if (!m) return false;
    updates.push({ from: m[1]!.toLowerCase(), to: m[2]!.toLowerCase(), ref: m[3]! });
  }
  return true;
}

/** Git smart HTTP to any other host (GitLab, Bitbucket, self-hosted): service "git". */
export const git: ServiceAdapter = {
  name: 'git',
  hosts: () => true,
  describe: (request) => gitSmartHttp('git', request),
};
