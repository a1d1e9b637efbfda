// The bench/decide workload: a ~50-rule policy in the shape real policies take and a realistic
// request description (headers, ~2 KB JSON body). Shared by the benchmark and profiling scripts.
import fs from 'node:fs';
import path from 'node:path';
import type { RequestDescription } from '../../describe/types.ts';

/** ~50 rules in the shape real policies take: per-service, per-method, per-path, per-label checks. */
export function writePolicy(dir: string): void {
  const rules: string[] = [];
  for (let i = 0; i < 20; i++) {
    rules.push(`allow_read contains "svc${i}" if {\n\tinput.request.host == "api${i}.example.com"\n\tinput.request.method in {"GET", "HEAD"}\n}`);
  }
  for (let i = 0; i < 15; i++) {
    rules.push(`needs_approval contains "write${i}" if {\n\tinput.request.host == "api${i}.example.com"\n\tinput.request.method in {"POST", "PUT", "PATCH"}\n\tstartswith(input.request.path, "/v1/objects${i}")\n}`);
  }
  for (let i = 0; i < 10; i++) {
    rules.push(`forbidden contains "label${i}" if {\n\tinput.agent.labels.team == "team${i}"\n\tinput.request.body.size > ${1_000_000 + i}\n}`);
  }
  rules.push(`forbidden contains "placeholder" if count(input.placeholders) > 0`);
  rules.push(`forbidden contains "query-exfil" if {\n\tsome name, vals in input.request.query\n\tsome v in vals\n\tcount(v) > 512\n}`);
  rules.push(`forbidden contains "json-secret" if {\n\tsome k, v in input.request.body.json\n\tis_string(v)\n\tregex.match("^sk_live_[A-Za-z0-9]{24}$", v)\n}`);
  const policy = `package airlock

import rego.v1

${rules.join('\n\n')}

default decision := {"action": "deny", "reason": "unknown destination", "rule": "default"}

decision := {"action": "deny", "reason": "forbidden", "rule": concat(",", forbidden)} if count(forbidden) > 0

else := {"action": "approve", "reason": "write", "rule": "write", "approval": {"risk": "medium"}} if count(needs_approval) > 0

else := {
\t"action": "allow", "reason": "read", "rule": "read",
\t"rate_limits": [{"key": concat(":", ["read", input.agent.id]), "limit": 1000, "window": "1h"}],
} if count(allow_read) > 0
`;
  fs.writeFileSync(path.join(dir, 'policy.rego'), policy);
}

export function description(): RequestDescription {
  const items = Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'], price: i * 3.5, note: 'x'.repeat(40) }));
  const body = JSON.stringify({ items, customer: 'cus_123', description: 'a realistic order payload' });
  return {
    request: {
      id: '7c1f0a3e-2f59-4a0a-9d8f-3b2a1c0d9e8f', time: new Date().toISOString(), method: 'GET',
      url: 'https://api7.example.com/v1/objects7/list?limit=50&cursor=abc', scheme: 'https', host: 'api7.example.com', port: 443,
      path: '/v1/objects7/list', segments: ['v1', 'objects7', 'list'], query: { limit: ['50'], cursor: ['abc'] },
      headers: {
        accept: ['application/json'], 'user-agent': ['agent/1.0 (node)'], authorization: ['Bearer [redacted]'],
        'content-type': ['application/json'], 'x-request-id': ['r-1234567890'], 'accept-encoding': ['gzip, br'],
        'content-length': [String(body.length)],
      },
      body: { size: body.length, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', content_type: 'application/json', json: JSON.parse(body), truncated: false },
      egress_bytes: body.length + 200,
    },
    agent: { id: 'agent-1', labels: { team: 'team3' } },
    placeholders: [],
    grants: [],
  };
}
