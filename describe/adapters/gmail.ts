// Gmail API (developers.google.com/gmail/api/reference/rest): /gmail/v1/users/{userId}/…, plus the
// media upload form /upload/gmail/v1/… used to send large messages. www.googleapis.com hosts many
// Google APIs, so there only /gmail/ paths are Gmail.
import type { RequestInfo, ServiceInfo } from '../types.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { effectByMethod, fromTable, RouteTable, type RouteSpec } from './routes.ts';

const U = '/users/{user_id}';

const routes: RouteSpec[] = [
  { route: `GET ${U}/profile`, operation: 'users.get_profile', effect: 'read' },
  { route: `POST ${U}/watch`, operation: 'users.watch', effect: 'write' },
  { route: `POST ${U}/stop`, operation: 'users.stop', effect: 'write' },
  { route: `GET ${U}/history`, operation: 'history.list', effect: 'read' },
  { route: `GET ${U}/messages`, operation: 'messages.list', effect: 'read' },
  { route: `GET ${U}/messages/{id}`, operation: 'messages.get', effect: 'read' },
  { route: `GET ${U}/messages/{message_id}/attachments/{id}`, operation: 'messages.attachments.get', effect: 'read' },
  { route: `POST ${U}/messages/send`, operation: 'messages.send', effect: 'send' },
  { route: `POST ${U}/messages`, operation: 'messages.insert', effect: 'write' },
  { route: `POST ${U}/messages/import`, operation: 'messages.import', effect: 'write' },
  { route: `POST ${U}/messages/{id}/modify`, operation: 'messages.modify', effect: 'write' },
  { route: `POST ${U}/messages/batchModify`, operation: 'messages.batch_modify', effect: 'write' },
  { route: `POST ${U}/messages/{id}/trash`, operation: 'messages.trash', effect: 'write' },
  { route: `POST ${U}/messages/{id}/untrash`, operation: 'messages.untrash', effect: 'write' },
  { route: `DELETE ${U}/messages/{id}`, operation: 'messages.delete', effect: 'delete' },
  { route: `POST ${U}/messages/batchDelete`, operation: 'messages.batch_delete', effect: 'delete' },
  { route: `GET ${U}/threads`, operation: 'threads.list', effect: 'read' },
  { route: `GET ${U}/threads/{id}`, operation: 'threads.get', effect: 'read' },
  { route: `POST ${U}/threads/{id}/modify`, operation: 'threads.modify', effect: 'write' },
  { route: `POST ${U}/threads/{id}/trash`, operation: 'threads.trash', effect: 'write' },
  { route: `POST ${U}/threads/{id}/untrash`, operation: 'threads.untrash', effect: 'write' },
  { route: `DELETE ${U}/threads/{id}`, operation: 'threads.delete', effect: 'delete' },
  { route: `GET ${U}/drafts`, operation: 'drafts.list', effect: 'read' },
  { route: `GET ${U}/drafts/{id}`, operation: 'drafts.get', effect: 'read' },
  { route: `POST ${U}/drafts`, operation: 'drafts.create', effect: 'write' },
  { route: `PUT ${U}/drafts/{id}`, operation: 'drafts.update', effect: 'write' },
  { route: `DELETE ${U}/drafts/{id}`, operation: 'drafts.delete', effect: 'delete' },
  { route: `POST ${U}/drafts/send`, operation: 'drafts.send', effect: 'send' },
  { route: `GET ${U}/labels`, operation: 'labels.list', effect: 'read' },
  { route: `GET ${U}/labels/{id}`, operation: 'labels.get', effect: 'read' },
  { route: `POST ${U}/labels`, operation: 'labels.create', effect: 'write' },
  { route: `PUT|PATCH ${U}/labels/{id}`, operation: 'labels.update', effect: 'write' },
  { route: `DELETE ${U}/labels/{id}`, operation: 'labels.delete', effect: 'delete' },
  // Settings: forwarding, filters, send-as and delegates can silently redirect mail — admin.
  { route: `GET ${U}/settings/{setting+}`, operation: 'settings.get', effect: 'read' },
  { route: `POST|PUT|PATCH|DELETE ${U}/settings/{setting+}`, operation: 'settings.update', effect: 'admin' },
];

const table = new RouteTable(routes);

function describeGmail(request: RequestInfo): ServiceInfo | undefined {
  const segs = request.segments;
  let rest: string[];
  if (segs[0] === 'gmail' && segs[1] === 'v1') rest = segs.slice(2);
  else if (segs[0] === 'upload' && segs[1] === 'gmail' && segs[2] === 'v1') rest = segs.slice(3);
  // A batch request is multipart with arbitrary calls inside (sends, deletes): fail closed as admin.
  else if (segs[0] === 'batch' && segs[1] === 'gmail') return { name: 'gmail', operation: 'batch', params: {}, effect: 'admin' };
  else return request.host === 'gmail.googleapis.com' ? { name: 'gmail', operation: 'unknown', params: {}, effect: effectByMethod(request.method) } : undefined;
  const info = fromTable('gmail', table, request, rest);
  if (info.params.setting !== undefined) info.operation = `settings.${String(info.params.setting).split('/')[0]}.${request.method === 'GET' ? 'get' : 'update'}`;
  return info;
}

export const gmail: ServiceAdapter = {
  name: 'gmail',
  hosts: hostIs('gmail.googleapis.com', 'www.googleapis.com'),
  describe: describeGmail,
};
