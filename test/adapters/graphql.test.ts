// GraphQL requests parsed with the graphql package (proxy/graphql.ts) and GitHub's mutations
// classified like their REST forms (proxy/adapters/github-graphql.ts), checked against GitHub's
// published schema (@octokit/graphql-schema).
import { schema as github } from '@octokit/graphql-schema';
import fc from 'fast-check';
import { buildSchema } from 'graphql';
import t from 'tap';
import { classifyMutation, knownMutations } from '../../describe/adapters/github-graphql.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';

await loadAdapters();
const schema = buildSchema(github.idl, { assumeValidSDL: true });
const schemaMutations = Object.keys(schema.getMutationType()!.getFields());

const gql = (body: string, headers: Array<[string, string]> = [['content-type', 'application/json']], url = 'https://api.github.com/graphql') =>
  describeRequest({ method: 'POST', url, headers, body: Buffer.from(body), bodyTruncated: false }, { agent: { id: 'a', labels: {} } });

t.test('every mutation of GitHub\'s schema is classified explicitly', async (t) => {
  const known = new Set(knownMutations());
  const missing = schemaMutations.filter((m) => !known.has(m));
  t.same(missing, [], `${schemaMutations.length} mutations in the schema, all in the table`);
  for (const m of schemaMutations.filter((x) => /^delete/.test(x))) {
    const [, effect] = classifyMutation(m);
    t.ok(['delete', 'admin'].includes(effect), `${m} is ${effect}`);
  }
  t.same(classifyMutation('mergePullRequest'), ['pulls.merge', 'write']);
  t.same(classifyMutation('deleteRef'), ['git.delete_ref', 'delete']);
  t.same(classifyMutation('deleteRepository'), ['repos.delete', 'delete']);
  t.same(classifyMutation('deleteSomethingNew')[1], 'delete', 'an unknown future delete is a delete');
  t.same(classifyMutation('updateEnterpriseSomethingSetting')[1], 'admin');
});

t.test('the word mutation in strings, comments, names and arguments does not make a query a write', async (t) => {
  const where = fc.constantFrom(
    (w: string) => `query { search(query: "${w}", type: ISSUE, first: 1) { issueCount } }`,
    (w: string) => `# ${w}\nquery { viewer { login } }`,
    (w: string) => `query ${w.replace(/\W/g, '') || 'Q'} { viewer { login } }`,
    (w: string) => `query { viewer { login } }\n# """${w}"""`,
    (w: string) => `query { repository(owner: "a", name: "b") { issue(number: 1) { body } } } # ${w} { deleteRef }`,
  );
  const word = fc.constantFrom('mutation', 'MUTATION', 'mutation { deleteRef(input: {}) { x } }', 'deleteRepository', 'Mutation');
  fc.assert(fc.property(where, word, (f, w) => {
    const d = gql(JSON.stringify({ query: f(w) }));
    return d.graphql?.parsed === true && d.service?.effect === 'read';
  }), { numRuns: 100 });
  t.pass('queries stay reads');
});

t.test('a mutation is found behind aliases, fragments, inline fragments and in every body shape', async (t) => {
  const doc = 'mutation { ok: addStar(input: {starrableId: "R"}) { clientMutationId } ... on Mutation { x: deleteRef(input: {refId: "1"}) { clientMutationId } } ...F } fragment F on Mutation { ...G } fragment G on Mutation { mergePullRequest(input: {pullRequestId: "P"}) { clientMutationId } }';
  const shapes: Array<[string, Array<[string, string]>]> = [
    [JSON.stringify({ query: doc }), [['content-type', 'application/json']]],
    [JSON.stringify({ query: doc }), []],
    [JSON.stringify({ query: doc }), [['content-type', 'text/plain']]],
    [`query=${encodeURIComponent(doc)}`, [['content-type', 'application/x-www-form-urlencoded']]],
    [doc, [['content-type', 'application/graphql']]],
    [doc, []],
    [`\uFEFF${JSON.stringify([{ query: '{ viewer { login } }' }, { query: doc }])}`, [['content-type', 'application/json']]],
  ];
  for (const [body, headers] of shapes) {
    const d = gql(body, headers);
    t.same(d.graphql?.operations.find((o) => o.type === 'mutation')?.fields, ['addStar', 'deleteRef', 'mergePullRequest'], `${headers[0]?.[1] ?? 'no type'} ${body.slice(0, 12)}`);
    t.match(d.service, { operation: 'git.delete_ref', effect: 'delete', params: { operations: ['git.delete_ref', 'pulls.merge', 'graphql.addStar'].sort() } });
  }
});

t.test('unreadable GraphQL fails closed', async (t) => {
  for (const body of ['{"query": "mutation {"}', '{"id": "persisted"}', '[]', 'not graphql at all', `{"query": "${'{'.repeat(5000)}"}`, JSON.stringify({ query: `{ ${'a '.repeat(200_000)} }` })]) {
    const d = gql(body);
    t.equal(d.graphql?.parsed, false, body.slice(0, 30));
    t.equal(d.service?.operation, 'graphql.unparsed');
  }
  const cut = describeRequest({ method: 'POST', url: 'https://api.github.com/graphql', headers: [['content-type', 'application/json']], body: Buffer.from('{"query": "{ viewer { login } }"'), bodyTruncated: true }, { agent: { id: 'a', labels: {} } });
  t.match(cut.graphql, { parsed: false, error: /larger than the capture/ });
});

t.test('GET queries are read from the URL', async (t) => {
  const d = describeRequest({ method: 'GET', url: `https://api.github.com/graphql?query=${encodeURIComponent('{ viewer { login } }')}`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'a', labels: {} } });
  t.match(d.graphql, { parsed: true, operations: [{ type: 'query', fields: ['viewer'] }] });
  t.equal(d.service?.effect, 'read');
});
