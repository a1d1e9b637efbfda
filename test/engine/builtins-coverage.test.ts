// Every builtin the `opa` binary knows is either answered by Airlock's evaluator (compiled into the
// WebAssembly, or in engine/builtins.ts) or refused at load with its name, and each refused one is
// named in docs/policies.md: a policy that passes `opa test` never meets an unknown "not
// implemented" in the proxy, and the docs say which builtins a policy may use. The list comes from
// the binary itself (`opa capabilities`), so an OPA upgrade that adds builtins shows up here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { compilePolicy } from '../../engine/compile.ts';
import { Evaluator, UnsupportedBuiltinError } from '../../engine/evaluator.ts';
import { requireOpa } from '../../engine/toolchain.ts';

// Refused on purpose (network, sets) or not yet written: docs/policies.md names each.
const refused = [
  'http.send', 'net.lookup_ip_addr', 'providers.aws.sign_req',
  'net.cidr_expand', 'net.cidr_merge', 'net.cidr_contains_matches', 'graph.reachable_paths', 'object.subset',
  'time.parse_ns', 'strings.render_template', 'regex.template_match', 'regex.globs_match', 'json.patch', 'json.match_schema', 'json.verify_schema',
  'json.marshal_with_options', 'uuid.parse', 'uuid.rfc4122', 'rand.intn', 'crypto.x509.parse_and_verify_certificates',
  'crypto.x509.parse_and_verify_certificates_with_options', 'crypto.x509.parse_certificate_request', 'crypto.x509.parse_certificates',
  'crypto.x509.parse_keypair', 'crypto.x509.parse_rsa_private_key', 'crypto.parse_private_keys', 'graphql.is_valid', 'graphql.parse',
  'graphql.parse_and_verify', 'graphql.parse_query', 'graphql.parse_schema', 'graphql.schema_is_valid', 'io.jwt.encode_sign',
  'io.jwt.encode_sign_raw', 'opa.runtime', 'rego.parse_module', 'uri.parse', 'uri.is_valid', 'internal.test_case',
];

t.test('each builtin OPA knows is answered or refused by name, and each refused one is in the docs', async (t) => {
  const caps = JSON.parse(spawnSync(requireOpa(), ['capabilities', '--current'], { encoding: 'utf8' }).stdout) as {
    builtins: Array<{ name: string; infix?: string; decl?: { args?: unknown[]; result?: unknown } }>;
  };
  let calls = caps.builtins.filter((b) => !b.infix).map((b) => {
    const args = (b.decl?.args ?? []).map((_, i) => `input.a${i}`).join(', ');
    return { name: b.name, rule: b.decl?.result ? `\tx := ${b.name}(${args})` : `\t${b.name}(${args})` };
  });
  const dir = t.testdir({});
  // Deprecated builtins are refused by OPA itself (Rego v1): found from its own error and left out.
  let compiled;
  for (let attempt = 0; attempt < 3 && !compiled; attempt++) {
    // Each call reachable from the decision (OPA compiles only what the entrypoint reaches).
    const rules = calls.map((c, i) => `hits contains ${i} if {\n${c.rule}\n}`).join('\n\n');
    fs.writeFileSync(path.join(dir, 'p.rego'), `package airlock\n\nimport rego.v1\n\ndecision := {"action": "deny", "reason": sprintf("%d", [count(hits)])}\n\n${rules}\n`);
    try {
      compiled = await compilePolicy(dir);
    } catch (err) {
      const deprecated = new Set([...String((err as { problems?: unknown[] }).problems?.map((p) => JSON.stringify(p)) ?? err).matchAll(/deprecated built-in function calls in expression: ([\w.]+)/g)].map((m) => m[1]!));
      if (!deprecated.size) throw err;
      calls = calls.filter((c) => !deprecated.has(c.name));
    }
  }
  t.ok(compiled, `a policy calling every builtin compiles (${calls.length} builtins)`);
  let missing: string[] = [];
  try {
    Evaluator.loadSync(compiled!);
  } catch (err) {
    if (!(err instanceof UnsupportedBuiltinError)) throw err;
    missing = err.names;
    for (const n of missing) t.match(err.message, n, `the load error names ${n}`);
  }
  t.same([...missing].sort(), [...refused].filter((n) => calls.some((c) => c.name === n)).sort(), 'the builtins refused at load are exactly the ones listed here');
  const docs = fs.readFileSync(new URL('../../docs/policies.md', import.meta.url), 'utf8');
  const named = (n: string): boolean => docs.includes(n) || docs.includes(n.replace(/^(.*)\.[a-z0-9_]+$/, '$1.*')) || (n.startsWith('crypto.x509.') && docs.includes('crypto.x509.*'));
  t.same(missing.filter((n) => n !== 'internal.test_case' && !named(n)), [], 'docs/policies.md names each refused builtin');
});
