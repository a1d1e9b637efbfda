import { loadAdapters } from './describe/adapters/index.ts';
import { describeRequest } from './describe/describe.ts';
import { grantTarget, operationScope } from './engine/grant-scope.ts';
await loadAdapters();
for (const [m, u, b] of [['POST', 'https://api.anthropic.com/v1/messages/batches/msgbatch_01/cancel', ''], ['PUT', 'https://api.github.com/repos/acme/widgets/contents/src/a.ts', '{"message":"m","content":"YQ==","branch":"feature-x"}'], ['PATCH', 'https://api.github.com/repos/acme/widgets/pulls/7', '{"title":"a"}']] as const) {
  const d = describeRequest({ method: m, url: u, headers: b ? [['content-type', 'application/json']] : [], body: Buffer.from(b), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
  console.log(m, u, d.service?.operation, JSON.stringify(d.service?.params), '=>', grantTarget(d), operationScope(d));
}
