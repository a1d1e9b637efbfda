// SQL carried over HTTP, parsed with libpg-query (the real PostgreSQL parser, compiled to WASM), so
// comments, quoting, case, multiple statements and data-modifying CTEs are understood the way the
// database will understand them — no regular expressions over SQL text.
import { createHash } from 'node:crypto';
import type * as PgQuery from 'libpg-query';
import type { SqlInfo, SqlStatement } from '../types.ts';
import { engineLoader } from './sql-engines.ts';
import { readQuoted } from './sql-quoted.ts';
import { CLOCK_REACH_SECONDS, intervalSeconds, MONTH, sqliteModifierSeconds, YEAR } from './sql-clock.ts';
import { lookupTable } from '../../lib/records.ts';

/** SQL longer than this is not parsed (reported unparsed, so the default policy treats it as destructive). */
export const MAX_SQL_BYTES = 1024 * 1024;
/**
 * Statements analyzed per request, at most; more is reported unparsed (which fails closed). Each
 * statement costs the analysis tens of microseconds to a millisecond on the main thread (SQLite runs
 * a DELETE against sample rows), so 1 MiB of short statements would take seconds.
 */
export const MAX_SQL_STATEMENTS = 1000;
const MAX_TEXT_CHARS = 1000;

/** PostgreSQL's parser: loaded by the first SQL that needs it (sql-engines.ts), not at import. */
const parser = engineLoader<typeof PgQuery>('PostgreSQL parser', async () => {
  const m = await import('libpg-query');
  await m.loadModule();
  return m;
});

/** Loads the parser's WASM module; analyzeSql reports SQL unparsed until it has. */
export const loadSqlParser = (): Promise<void> => parser.load();

type Node = Record<string, unknown>;

/** Functions a read-only SELECT may call: pure or catalog-reading builtins. Any other call may write. */
const readOnlyFunctions = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'coalesce', 'nullif', 'greatest', 'least', 'lower', 'upper', 'initcap',
  'length', 'char_length', 'octet_length', 'substring', 'substr', 'trim', 'btrim', 'ltrim', 'rtrim', 'replace',
  'concat', 'concat_ws', 'format', 'left', 'right', 'lpad', 'rpad', 'position', 'strpos', 'split_part', 'starts_with',
  'regexp_replace', 'regexp_matches', 'regexp_match', 'regexp_split_to_array', 'reverse', 'repeat', 'md5', 'encode',
  'to_char', 'to_date', 'to_timestamp', 'to_number', 'now', 'date_trunc', 'date_part', 'extract', 'age', 'date',
  'make_date', 'make_interval', 'timezone', 'json_agg', 'jsonb_agg', 'json_build_object', 'jsonb_build_object',
  'json_build_array', 'jsonb_build_array', 'json_object_agg', 'jsonb_object_agg', 'array_agg', 'string_agg',
  'array_length', 'array_to_string', 'string_to_array', 'unnest', 'row_to_json', 'to_json', 'to_jsonb',
  'json_array_elements', 'jsonb_array_elements', 'jsonb_each', 'json_each', 'jsonb_typeof', 'json_typeof',
  'jsonb_array_length', 'json_array_length', 'jsonb_pretty', 'jsonb_path_query', 'jsonb_set', 'generate_series',
  'round', 'floor', 'ceil', 'ceiling', 'abs', 'mod', 'power', 'sqrt', 'random', 'gen_random_uuid', 'bool_and',
  'bool_or', 'every', 'row_number', 'rank', 'dense_rank', 'lag', 'lead', 'first_value', 'last_value', 'ntile',
  'percentile_cont', 'percentile_disc', 'stddev', 'variance', 'version', 'current_setting', 'pg_typeof',
  'pg_size_pretty', 'pg_total_relation_size', 'pg_relation_size', 'pg_database_size', 'pg_table_size',
  'pg_indexes_size', 'has_table_privilege', 'has_schema_privilege', 'pg_get_viewdef', 'pg_get_functiondef',
  'pg_get_indexdef', 'pg_get_constraintdef', 'format_type', 'obj_description', 'col_description', 'quote_ident',
  'quote_literal', 'current_database', 'current_schema', 'current_schemas', 'pg_backend_pid', 'txid_current',
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'similarity', 'st_asgeojson',
  // Calls the parser writes for `LIKE … ESCAPE`, `SIMILAR TO`, `OVERLAY`, `NORMALIZE`.
  'like_escape', 'similar_to_escape', 'similar_escape', 'overlay', 'normalize', 'is_normalized',
]);

/**
 * Functions that destroy data or sessions, or reach outside the database (server files, other
 * servers), even inside a SELECT. Matched by name in any schema: a function named like one of
 * these is treated as one.
 */
const destructiveFunctions = new Set([
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_drop_replication_slot', 'lo_unlink', 'dblink_exec',
  // A large object's contents cut away, as lo_unlink removes it (thirteenth pass).
  'lo_truncate', 'lo_truncate64',
  'pg_reload_conf', 'pg_promote', 'pg_replication_origin_drop', 'pg_stat_reset', 'pg_file_unlink',
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_file_write', 'pg_file_rename',
  'pg_logdir_ls', 'lo_import', 'lo_export', 'dblink', 'dblink_connect', 'dblink_connect_u', 'dblink_send_query',
  'dblink_open', 'dblink_fetch', 'pg_rotate_logfile', 'pg_switch_wal', 'pg_create_restore_point',
  // The server's directories listed, as pg_ls_dir does (its siblings for the WAL, logs, temporary
  // files, archive status, logical decoding and replication slots).
  'pg_ls_waldir', 'pg_ls_logdir', 'pg_ls_tmpdir', 'pg_ls_archive_statusdir', 'pg_ls_logicalsnapdir', 'pg_ls_logicalmapdir',
  'pg_ls_replslotdir', 'pg_ls_summariesdir',
  // Statistics the planner and monitoring read, thrown away (pg_stat_reset's siblings).
  'pg_stat_reset_shared', 'pg_stat_reset_single_table_counters', 'pg_stat_reset_single_function_counters', 'pg_stat_reset_slru',
  'pg_stat_reset_replication_slot', 'pg_stat_reset_subscription_stats',
  // Thirteenth pass: pg_stat_statements' (every session's query statistics, Supabase's query
  // performance report), and a replica's replay stopped (its readers see the past from then on).
  'pg_stat_statements_reset', 'pg_wal_replay_pause',
  // HTTP from inside the database (pg_net's `net.http_*`, pgsql-http's `http_*`, both offered by
  // Supabase): any row can leave for any server without passing Airlock.
  'http', 'http_get', 'http_post', 'http_put', 'http_patch', 'http_delete', 'http_head', 'http_collect_response',
  // Functions that run the SQL text they are given (as EXECUTE and DO do): `query_to_xml('DELETE FROM
  // users RETURNING 1', …)` deletes every row from inside a SELECT, and the text is a string here.
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'ts_stat',
  // Replication slots: every later change to every table, read out of the write-ahead log (past
  // row-level security and grants) here or by any server that connects to stream it.
  'pg_create_logical_replication_slot', 'pg_create_physical_replication_slot', 'pg_copy_logical_replication_slot',
  'pg_copy_physical_replication_slot', 'pg_logical_slot_get_changes', 'pg_logical_slot_get_binary_changes',
  'pg_logical_slot_peek_changes', 'pg_logical_slot_peek_binary_changes', 'pg_replication_slot_advance',
  // Twenty-ninth pass: TimescaleDB's and pg_partman's retention, data thrown away by time rather
  // than by a statement (`drop_chunks('conditions', older_than => now())` is every row;
  // `add_retention_policy` deletes each chunk older than its interval from then on, held as every row
  // it may be, as BigQuery's partition expiry is): each was a SELECT of a function nobody proves read-only.
  'drop_chunks', 'add_retention_policy', 'drop_partition_time', 'drop_partition_id',
]);

/**
 * Functions that read a whole table, schema or database named by a string (`table_to_xml('auth.users',
 * …)`): the named place is among the statement's tables, so a grant for one table's does not cover another's.
 */
const namedRelationReaders: Readonly<Record<string, (name: string) => string>> = lookupTable({
  table_to_xml: (n) => n, table_to_xmlschema: (n) => n, table_to_xml_and_xmlschema: (n) => n,
  schema_to_xml: (n) => `${n}.*`, schema_to_xmlschema: (n) => `${n}.*`, schema_to_xml_and_xmlschema: (n) => `${n}.*`,
  database_to_xml: () => '*', database_to_xmlschema: () => '*', database_to_xml_and_xmlschema: () => '*',
});

/**
 * Operators PostgreSQL and its common extensions (pg_trgm, PostGIS, pgvector, hstore, ltree) define:
 * any other, or one named in a schema other than pg_catalog (`OPERATOR(public.=)`), is a call of a
 * function someone created, which nothing proves read-only.
 */
const builtinOperators = new Set([
  '+', '-', '*', '/', '%', '^', '|/', '||/', '@', '&', '|', '#', '~', '<<', '>>', '=', '<>', '!=', '<', '>', '<=', '>=',
  '||', '~~', '~~*', '!~~', '!~~*', '~*', '!~', '!~*', '@>', '<@', '&&', '->', '->>', '#>', '#>>', '#-', '?', '?|', '?&',
  '@?', '@@', '@@@', '<->', '<=>', '<#>', '<+>', '<~>', '##', '<<|', '|>>', '&<', '&>', '&<|', '|&>', '<^', '>^', '?#',
  '?-', '?-|', '?||', '~=', '<<=', '>>=', '-|-', '!!', '^@', '<%', '%>', '<<%', '%>>', '<<->', '<->>', '<<<->', '<->>>',
  '&&&', '<<#>>', '|=|', '#=', '%%', '%#', '@@=', '~>', '<~', '*=', '*<>', '*<', '*>', '*<=', '*>=',
]);
const operatorKinds = new Set(['AEXPR_OP', 'AEXPR_OP_ANY', 'AEXPR_OP_ALL']);

/** An operator named as written (`=`, `public.=`): one of PostgreSQL's or a common extension's, unqualified or in pg_catalog. */
function builtinOperator(parts: string[]): boolean {
  const op = parts[parts.length - 1] ?? '';
  return (parts.length === 1 && builtinOperators.has(op)) || (parts.length === 2 && parts[0] === 'pg_catalog' && builtinOperators.has(op));
}

/**
 * Where else a statement names an operator it runs (thirteenth pass): `x OPERATOR(public.=) ANY
 * (SELECT …)` and `x === ALL (SELECT …)` (a SubLink's operName), `ORDER BY x USING ===` (a SortBy's
 * useOp, in a query, a window or an aggregate). The real server calls the operator's function for
 * each row there as it does in a WHERE.
 */
function namedOperator(type: string, n: Node): string[] | undefined {
  const list = type === 'SubLink' ? n.operName : type === 'SortBy' ? n.useOp : undefined;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return (list as Array<{ String?: { sval?: string } }>).map((p) => p.String?.sval ?? '');
}

/**
 * Functions of the other servers an endpoint of unknown dialect may be (read with PostgreSQL's
 * grammar, which parses any call): each reads or writes the server's files, runs a program or SQL
 * text, or reaches another server with the rows, as `pg_read_file` and `dblink` do in PostgreSQL.
 * SQLite's file and extension functions (the shell's fileio, `load_extension`), MySQL's
 * `LOAD_FILE` and command UDFs, SQL Server's `OPENROWSET`/`xp_cmdshell` family, Snowflake's mail
 * and notification calls, BigQuery's `EXTERNAL_QUERY`, Databricks' `http_request`, ClickHouse's
 * table functions over URLs, files, object stores and other servers, DuckDB's file and URL readers.
 * Matched by name in any schema, only when the dialect is not known (a PostgreSQL service's
 * function of the same name is its own).
 */
const otherDialectFunctions = new Set([
  'load_extension', 'readfile', 'writefile', 'edit', 'fts3_tokenizer', 'lsdir',
  'load_file', 'sys_exec', 'sys_eval',
  'openrowset', 'opendatasource', 'openquery', 'xp_cmdshell', 'xp_dirtree', 'xp_fileexist', 'xp_subdirs', 'xp_regread',
  'xp_regwrite', 'sp_oacreate', 'sp_oamethod', 'sp_configure', 'sp_executesql', 'sp_execute_external_script', 'httpuritype',
  'system$send_email', 'system$send_snowflake_notification', 'external_query', 'http_request', 'read_files',
  'url', 'urlcluster', 'file', 'filecluster', 's3', 's3cluster', 'gcs', 'azureblobstorage', 'azureblobstoragecluster', 'hdfs',
  'hdfscluster', 'remote', 'remotesecure', 'mysql', 'postgresql', 'mongodb', 'redis', 'jdbc', 'odbc', 'executable', 'iceberg',
  'deltalake', 'hudi',
  'read_csv', 'read_csv_auto', 'read_json', 'read_json_auto', 'read_json_objects', 'read_ndjson', 'read_ndjson_auto',
  'read_parquet', 'parquet_scan', 'read_text', 'read_blob', 'sniff_csv', 'iceberg_scan', 'delta_scan', 'postgres_scan',
  'postgres_query', 'postgres_execute', 'mysql_query', 'mysql_execute',
  // Eighth pass: ClickHouse's table functions over local SQLite files, Hive, Arrow Flight and the
  // newer object-store readers; DuckDB's readers of SQLite files and spatial/parquet files and its
  // `query()` (SQL text run); Snowflake's calls that end other sessions' queries (as
  // pg_cancel_backend does); SQL Server's readers of server files (a UNC path sends the server's
  // credentials to another host).
  'sqlite', 'hive', 'arrowflight', 'ytsaurus', 'icebergs3', 'icebergazure', 'iceberghdfs', 'iceberglocal', 'icebergcluster',
  'deltalakeazure', 'deltalakecluster', 'hudicluster', 'paimon', 'paimons3', 'paimonazure', 'paimonhdfs', 'paimonlocal',
  'sqlite_scan', 'sqlite_attach', 'st_read', 'parquet_metadata', 'parquet_schema', 'parquet_file_metadata', 'parquet_kv_metadata',
  'read_xlsx', 'read_avro', 'query', 'query_table',
  'system$cancel_query', 'system$cancel_all_queries', 'system$abort_session', 'system$abort_transaction',
  'fn_xe_file_target_read_file', 'fn_get_audit_file', 'fn_trace_gettable',
  // Fourteenth pass: DuckDB's readers of JSON objects, and its environment (the CLI's credentials).
  'read_json_objects_auto', 'read_ndjson_objects', 'getenv',
  // Fifteenth pass: ClickHouse's other table functions over object stores, server folders, other
  // databases and search engines (`filesystem('/')` lists the server's files).
  'cosn', 'oss', 'cassandra', 'directory', 'filesystem', 'duckdb', 'meilisearch', 'datalake', 'deltalakes3', 'deltalakelocal',
  'deltalakes3cluster', 'deltalakeazurecluster', 'icebergs3cluster', 'icebergazurecluster', 'iceberghdfscluster', 'hivecluster',
  // Twentieth pass: the SQLite shell's `fsdir` (every file below a folder, with its contents) and
  // `zipfile` (an archive on the server's disk); Oracle's `BFILENAME` and `DBMS_LOB.FILEOPEN` (a
  // server file read as a LOB); DuckDB's spatial metadata reader, MySQL scanner, AWS credential
  // loader and Iceberg metadata readers; Aurora's and RDS's export of a query's rows to S3, import
  // from it, and Lambda calls.
  'fsdir', 'zipfile', 'bfilename', 'fileopen', 'st_read_meta', 'mysql_scan', 'mysql_attach', 'load_aws_credentials',
  'iceberg_metadata', 'iceberg_snapshots', 'query_export_to_s3', 'table_import_from_s3', 'lambda_sync', 'lambda_async',
  // Twenty-seventh pass: DuckDB's and MotherDuck's stored credentials listed.
  'duckdb_secrets', 'which_secret',
]);

/**
 * Procedures of the engines behind the SQL-over-REST services (Trino and Athena, Spark and
 * Databricks, Amazon RDS for MySQL, BigQuery) that throw a table's later writes or history away or
 * end others' work, as `pg_terminate_backend` does (twenty-seventh pass: each a medium write on an
 * endpoint of unknown dialect, `CALL` of a procedure nothing proves harmless): Iceberg's
 * `rollback_to_snapshot`/`_timestamp`, `set_current_snapshot`, `cherrypick_snapshot`,
 * `fast_forward` (the table's state replaced), `expire_snapshots`, `remove_orphan_files` and Delta
 * Lake's `vacuum` (history removed for good), Trino's `unregister_table`, `unregister_partition`,
 * `drop_stats`, `sync_partition_metadata` (partitions dropped) and `kill_query`, RDS's `rds_kill`,
 * `rds_kill_query`, `rds_set_configuration` (binlog retention), `rds_stop_replication`,
 * `rds_skip_repl_error`, `rds_set_external_master`, BigQuery's `abort_session`. Matched by name in
 * any schema, called or selected, only where the dialect is not known.
 */
const otherDialectProcedures = new Set([
  'rollback_to_snapshot', 'rollback_to_timestamp', 'set_current_snapshot', 'cherrypick_snapshot', 'fast_forward', 'expire_snapshots',
  'remove_orphan_files', 'unregister_table', 'unregister_partition', 'drop_stats', 'sync_partition_metadata', 'kill_query',
  'rds_kill', 'rds_kill_query', 'rds_set_configuration', 'rds_stop_replication', 'rds_skip_repl_error', 'rds_set_external_master',
  'rds_reset_external_master', 'abort_session',
]);

/**
 * ClickHouse table engines that read from or write to another server or a program, named in a
 * CREATE (a temporary table too, which a read-only GET may make): `ENGINE = URL('https://…', CSV)`,
 * `ENGINE = Kafka SETTINGS kafka_broker_list = '…'` (no call parentheses needed). Those named like a
 * table function (`URL`, `S3`, `File`, `MySQL` …) are in otherDialectFunctions.
 */
const outsideEngines = new Set(['kafka', 'rabbitmq', 'nats', 'executablepool', 's3queue', 'azurequeue', 'materializedpostgresql', 'materializedmysql']);

/**
 * Whether a function (or ClickHouse engine) of that name, in any schema, reads or writes outside
 * the database or destroys data: the names the PostgreSQL reading flags for an endpoint of unknown
 * dialect, for a lexical scan of text no grammar reads (sql-clickhouse.ts outsideCall).
 */
export function reachesOutside(name: string): boolean {
  const n = name.toLowerCase();
  return destructiveFunctions.has(n) || otherDialectFunctions.has(n) || outsideEngines.has(n);
}

/** Oracle's packages that reach the network or files, or run SQL text (`UTL_HTTP.REQUEST(…)`, `DBMS_XMLGEN.GETXML('…')`). */
const otherDialectPackages = new Set(['utl_http', 'utl_inaddr', 'utl_tcp', 'utl_smtp', 'utl_mail', 'utl_file', 'dbms_ldap', 'dbms_sql', 'dbms_xmlgen', 'dbms_java', 'dbms_scheduler', 'dbms_pipe']);

/**
 * Extensions' functions that run the SQL or GraphQL text they are given, now or later, as the
 * role that owns them: pg_cron's jobs (`cron.schedule('* * * * *', 'DELETE FROM users')`, on
 * Supabase and Neon), pg_graphql's resolver (`graphql.resolve('mutation { deleteFrom… }')`,
 * Supabase's `graphql_public.graphql`), pg_background. Keyed by name, with the schemas the
 * extension installs them in; unqualified counts too (the search path may hold that schema).
 */
/**
 * Extensions' functions that destroy data as DROP and TRUNCATE do: pgmq's (Supabase Queues)
 * `drop_queue` (the queue's table) and `purge_queue` (every message in it). Keyed as
 * textRunnerFunctions (thirteenth pass).
 */
const destroyingExtensionFunctions: Readonly<Record<string, ReadonlySet<string>>> = lookupTable({
  drop_queue: new Set(['pgmq']), purge_queue: new Set(['pgmq']),
});

const textRunnerFunctions: Readonly<Record<string, ReadonlySet<string>>> = lookupTable({
  schedule: new Set(['cron']), schedule_in_database: new Set(['cron']), alter_job: new Set(['cron']),
  resolve: new Set(['graphql']), graphql: new Set(['graphql_public']),
  pg_background_launch: new Set(['public', 'extensions']),
  // MySQL's sys schema runs the statement text it is given as a prepared statement (twenty-second pass).
  execute_prepared_stmt: new Set(['sys']),
});

/**
 * Functions that send what they are given out of the database to whoever listens, past Airlock (as
 * pg_net's `http_post` does): Supabase Realtime's Broadcast from the database (`realtime.send(payload,
 * event, topic, private => false)` reaches every client subscribed to a public topic with the
 * project's anon key, `realtime.broadcast_changes(…)` the same). Keyed as textRunnerFunctions.
 */
const outboundFunctions: Readonly<Record<string, ReadonlySet<string>>> = lookupTable({
  send: new Set(['realtime']), broadcast_changes: new Set(['realtime']),
});

/** Tables whose rows are sent out as they are written: Supabase Realtime's `realtime.messages` (what `realtime.send` inserts into). */
const outboundTables = new Set(['realtime.messages']);

function runsText(parts: string[], table: Record<string, ReadonlySet<string>> = textRunnerFunctions): boolean {
  const name = (parts[parts.length - 1] ?? '').toLowerCase();
  const schemas = table[name];
  if (!schemas) return false;
  return parts.length === 1 || (parts.length === 2 && schemas.has((parts[0] ?? '').toLowerCase()));
}

/**
 * MySQL's and MariaDB's statements that PostgreSQL's grammar reads as a setting, on an endpoint of
 * unknown dialect: `SET PASSWORD = '…'` changes the account's password (the application using it is
 * locked out); `foreign_key_checks`, `unique_checks`, `sql_log_bin` and MariaDB's
 * `check_constraint_checks` switch off integrity checks or the binary log (replicas, audit) for what
 * the session writes next, like `session_replication_role`; `RESET MASTER`/`SLAVE`/`REPLICA` delete
 * the binary logs or the replication configuration, `RESET PERSIST` the server's persisted settings.
 */
const mysqlPrivilegeSettings = new Set(['password', 'foreign_key_checks', 'unique_checks', 'sql_log_bin', 'check_constraint_checks']);
const mysqlResets = new Set(['master', 'slave', 'replica', 'persist']);

/**
 * ClickHouse's settings that change what a session's later statements do (twenty-seventh pass: set
 * by `SET` or, on its HTTP interface, by a URL parameter beside the query, each was a plain read or
 * narrow write): `engine_file_truncate_on_insert`, `s3_truncate_on_insert`,
 * `hdfs_truncate_on_insert`, `azure_truncate_on_insert` on (an INSERT into a File, S3, HDFS or Azure
 * table first empties it: TRUNCATE), `log_queries` off (the statements leave no trace in
 * `system.query_log`, as MySQL's `sql_log_bin = 0` leaves none in the binary log), and
 * `format_display_secrets_in_show_and_select` on (SHOW CREATE and `system.tables` show the
 * passwords and keys of the tables' engines). Undefined for any other setting or value.
 */
export function clickhouseSettingEffect(name: string, value: string | undefined): 'delete' | 'privilege' | undefined {
  const n = name.toLowerCase();
  const on = value === undefined || !['', '0', 'false', 'off', 'no'].includes(value.trim().toLowerCase());
  if (/^(engine_file|s3|hdfs|azure)_truncate_on_insert$/.test(n) && on) return 'delete';
  if (n === 'log_queries' && !on) return 'privilege';
  if (n === 'format_display_secrets_in_show_and_select' && on) return 'privilege';
  // Trino's and Presto's Hive connector (twenty-ninth pass): `SET SESSION hive.insert_existing_partitions_behavior
  // = 'OVERWRITE'` (or the `X-Trino-Session` header) makes each later INSERT replace the partitions it
  // writes, as `INSERT OVERWRITE` does (a plain setting before).
  if (/(^|\.)insert_existing_partitions_behavior$/.test(n) && value !== undefined && value.trim().toLowerCase() === 'overwrite') return 'delete';
  return undefined;
}

/**
 * Two-phase commit: PREPARE TRANSACTION keeps a transaction (its writes and its locks) past the
 * session, until someone finishes it; COMMIT PREPARED and ROLLBACK PREPARED finish one another session
 * prepared, whose writes land or are thrown away without this request showing them.
 */
const preparedTransactionKinds: Readonly<Record<string, string>> = lookupTable({
  TRANS_STMT_PREPARE: 'prepare_transaction', TRANS_STMT_COMMIT_PREPARED: 'commit_prepared', TRANS_STMT_ROLLBACK_PREPARED: 'rollback_prepared',
});

/** `ts_rewrite(query, 'SELECT …')`: the two-argument form runs the SELECT given as text. */
const runsTextWithArgs: Readonly<Record<string, number>> = lookupTable({ ts_rewrite: 2 });

/**
 * SET parameters that change who the session acts as, or switch off the triggers and foreign-key
 * checks (audit triggers included) of everything it writes next (`session_replication_role = replica`).
 */
const privilegeSettings = new Set(['role', 'session_authorization', 'session authorization', 'session_replication_role']);

/**
 * A setting that changes how the server reads or resolves every later statement of the session
 * (later messages of one request, later requests on a pooled connection), past the reading Airlock
 * made of them (thirteenth pass). `client_encoding` other than UTF-8: in SJIS, BIG5, GBK, UHC or
 * GB18030 a backslash can end a multibyte character, so `SELECT E'Á\'; DROP TABLE t; --'`, one
 * string to a UTF-8 reader, drops the table when sent after `SET NAMES 'SJIS'`. A `search_path`
 * naming `pg_catalog` after another schema: unqualified `lower()` and `=`, which the analysis takes
 * for the built-ins, then resolve to that schema's functions and operators first. `values` are the
 * constant texts given (undefined: a value only the server computes, which counts as such a value).
 */
function changesLaterReading(name: string, values: ReadonlyArray<string | undefined>, form: 'identifiers' | 'list' = 'identifiers'): boolean {
  const key = name.trim().toLowerCase();
  if (key !== 'client_encoding' && key !== 'search_path' && key !== 'transform_null_equals') return false;
  if (values.some((v) => v === undefined)) return true;
  // `x = NULL` read as `x IS NULL` (fourteenth pass): `DELETE FROM users WHERE deleted_at = NULL`,
  // which matches no row and reads as narrow, deletes every row never deleted. Off is the default.
  if (key === 'transform_null_equals') return !/^(f|fa|fal|fals|false|n|no|of|off|0)$/i.test((values[0] ?? '').trim()) || values.length !== 1;
  if (key === 'client_encoding') {
    // PostgreSQL compares encoding names without case and without anything but letters and digits.
    const v = (values[0] ?? '').replace(/[^a-z0-9]/gi, '').toLowerCase();
    return v !== 'utf8' && v !== 'unicode';
  }
  // Schema names compared exactly, as the server does (fifteenth pass: `SET search_path = 'Public'`
  // or `"Public"` names the schema `Public`, not `public`, and was taken for the default path).
  const schemas = form === 'identifiers' ? values.map((v) => v ?? '') : pathSchemas(values[0] ?? '');
  // Also a path into the platform's own data (`auth`, `vault`, `storage` …): later unqualified
  // names (`DELETE FROM users WHERE id = $1`) act there, under grants given for `public`'s.
  if (schemas.indexOf('pg_catalog') > 0 || schemas.some((sc) => sc !== 'extensions' && internalSchemas.includes(sc))) return true;
  // Any other schema of the user's own (fourteenth pass; the thirteenth left it a write): later
  // unqualified names (`DELETE FROM users WHERE id = $1`, in this request or, on a pooled
  // connection, in a later one) act there, while the statement names `users` and is covered by
  // grants given for `public`'s. Only the default path's schemas keep it a write.
  return schemas.some((sc) => !defaultPathSchemas.has(sc));
}

/**
 * The schema names of a search path written as one string (`set_config('search_path', '"App", public', …)`),
 * as PostgreSQL's SplitIdentifierString reads it: split at commas, an unquoted name folded to lower
 * case and cut at a blank, a quoted one kept exactly (`""` a quote). One linear pass.
 */
function pathSchemas(list: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = list.length;
  const blank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  while (i <= n) {
    while (i < n && blank(list[i])) i++;
    let name = '';
    if (list[i] === '"') {
      i++;
      for (;;) {
        const end = list.indexOf('"', i);
        if (end < 0) return [...out, list.slice(i)]; // left open: the server refuses it; counted as a name
        name += list.slice(i, end);
        i = end + 1;
        if (list[i] !== '"') break;
        name += '"';
        i++;
      }
    } else {
      const from = i;
      while (i < n && list[i] !== ',' && !blank(list[i])) i++;
      name = list.slice(from, i).toLowerCase();
    }
    out.push(name);
    while (i < n && list[i] !== ',') i++;
    i++;
  }
  return out;
}

/** The schemas of PostgreSQL's and Supabase's default search paths (`"$user", public, extensions`), and an empty entry. */
const defaultPathSchemas = new Set(['', '$user', 'public', 'pg_catalog', 'pg_temp', 'extensions']);

/**
 * A function, aggregate or operator created under the name of a built-in the analysis proves
 * read-only (`public.lower(varchar)`, `public.=`), in any schema: PostgreSQL resolves a call among
 * every schema of the search path by argument types first, so with the default search path
 * `lower(name)` on a varchar column runs `public.lower(varchar)`, an exact match, rather than
 * `pg_catalog.lower(text)` (CVE-2018-1058's class), and every later "read" calling it runs the
 * agent's code (thirteenth pass). Code others' statements call, changed: as CREATE OR REPLACE.
 */
function shadowsBuiltin(parts: string[], builtins: ReadonlySet<string>): boolean {
  return builtins.has(parts[parts.length - 1] ?? '');
}

/** MySQL character sets in which no byte of a character is a backslash or a quote (UTF-8, single-byte ones). */
function mysqlSafeCharset(v: string | undefined): boolean {
  return v !== undefined && /^(utf8|utf8mb3|utf8mb4|ascii|latin1|binary|default)$/i.test(v.trim());
}

/** Statement types that change privileges, roles or the server itself: handled like GRANT/REVOKE. */
const privilegeStatements = new Set([
  'GrantStmt', 'GrantRoleStmt', 'AlterDefaultPrivilegesStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt',
  'ReassignOwnedStmt', 'AlterSystemStmt', 'AlterOwnerStmt', 'SecLabelStmt',
  // An event trigger switched off or on (auditing of DDL, the API's schema reload), as ALTER TABLE … DISABLE TRIGGER.
  'AlterEventTrigStmt',
  // ALTER DATABASE … SET changes every later session's defaults (search_path, row_security,
  // session_replication_role), as ALTER ROLE … SET and ALTER SYSTEM do; ALTER DATABASE … WITH
  // (connection limit, allow_connections) decides who may connect.
  'AlterDatabaseSetStmt', 'AlterDatabaseStmt',
]);

/**
 * Statements that install or run code the request does not show: triggers, rules and event
 * triggers run on later statements (anyone's), EXECUTE runs a statement prepared earlier, LOAD
 * loads a shared library, an extension brings its own functions.
 */
const unseenCodeStatements = new Set(['CreateTrigStmt', 'CreateEventTrigStmt', 'RuleStmt', 'ExecuteStmt', 'LoadStmt', 'CreateExtensionStmt']);

/**
 * Statements that store expressions the server runs under later statements, anyone's (fourteenth
 * pass): column defaults, CHECK constraints, generated columns, index and partition expressions
 * (every later INSERT/UPDATE), row-level security policies (every later read, restrictive ones
 * too: `USING (spy(body))` runs for each row an allowed `SELECT` reads), domain checks (every cast),
 * extended statistics (ANALYZE), views and materialized views (every read, every refresh). A
 * function there that nothing proves read-only is code installed, as a trigger is.
 */
const storedExpressionStatements = new Set([
  'CreateStmt', 'AlterTableStmt', 'IndexStmt', 'CreateDomainStmt', 'AlterDomainStmt', 'CreateStatsStmt',
  'CreatePolicyStmt', 'AlterPolicyStmt', 'ViewStmt',
]);

/**
 * Functions a stored expression commonly calls that write nothing but their own bookkeeping: a
 * sequence's next value and uuid/random generators (column defaults), the clock, and Supabase's
 * `auth.uid()`/`auth.role()`/`auth.jwt()`/`auth.email()` (policies and defaults; its `auth` schema
 * is not the agent's to replace).
 */
const storedSafeFunctions = new Set(['nextval', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'gen_random_bytes', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday']);
const storedSafeQualified = new Set(['auth.uid', 'auth.role', 'auth.jwt', 'auth.email']);

function storedSafe(written: string): boolean {
  if (storedSafeQualified.has(written)) return true;
  const parts = written.split('.');
  const name = parts[parts.length - 1] ?? '';
  return storedSafeFunctions.has(name) && (parts.length === 1 || (parts.length === 2 && (parts[0] === 'pg_catalog' || parts[0] === 'extensions')));
}

/**
 * Statements that make the database reach other servers: a foreign server, a user mapping (the
 * credentials it logs in with), a foreign table or an imported foreign schema (rows written there
 * leave), a subscription (another server's rows written here). Outside the database, like dblink.
 */
const outsideStatements = new Set([
  // A publication offers its tables' rows, and every later change, to any server that subscribes.
  'CreatePublicationStmt', 'AlterPublicationStmt',
  'CreateForeignServerStmt', 'AlterForeignServerStmt', 'CreateUserMappingStmt', 'AlterUserMappingStmt', 'CreateForeignTableStmt',
  'ImportForeignSchemaStmt', 'CreateFdwStmt', 'AlterFdwStmt', 'CreateSubscriptionStmt', 'AlterSubscriptionStmt',
]);

/**
 * ALTER TABLE actions that rewrite a column in every row: a new type (`USING` any expression, or a
 * cast that rounds or cuts) or a new generation expression. An UPDATE of every row.
 */
const rewritingAlterTable = new Set(['AT_AlterColumnType', 'AT_SetExpression']);

/**
 * ALTER TABLE actions that weaken access control or auditing (row-level security off, a new
 * owner, triggers or rules off): privilege changes, like GRANT. `ENABLE REPLICA TRIGGER`/`RULE` is
 * a disable in other words (fourteenth pass): such a trigger or rule fires only in sessions whose
 * `session_replication_role` is `replica`, so an audit trigger stops recording and a rule that
 * turns DELETEs into nothing stops protecting.
 */
const privilegeAlterTable = /^AT_(DisableRowSecurity|NoForceRowSecurity|ChangeOwner|DisableTrig|DisableRule|EnableReplicaTrig|EnableReplicaRule)/;

/**
 * `ALTER VIEW v SET (security_invoker = false)` or `RESET (security_invoker)`: a view that read as
 * its caller now reads as its owner, past row-level security and the caller's grants (what a view
 * made so from the start is, publishesInternalRows): a privilege change, like disabling RLS.
 */
function dropsInvokerRights(subtype: string, def: Node | undefined): boolean {
  if (subtype !== 'AT_SetRelOptions' && subtype !== 'AT_ResetRelOptions') return false;
  type Arg = { String?: { sval?: string }; Boolean?: { boolval?: boolean }; Integer?: { ival?: number } };
  const items = ((def as { List?: { items?: unknown[] } } | undefined)?.List?.items ?? []) as Array<{ DefElem?: { defname?: string; arg?: Arg } }>;
  return items.some((o) => {
    if (String(o.DefElem?.defname ?? '').toLowerCase() !== 'security_invoker') return false;
    if (subtype === 'AT_ResetRelOptions') return true;
    const arg = o.DefElem?.arg;
    if (arg === undefined) return false; // `SET (security_invoker)` turns it on
    const v = String(arg.String?.sval ?? arg.Boolean?.boolval ?? arg.Integer?.ival ?? '0').toLowerCase();
    return !(v === 'true' || v === 'on' || v === '1' || v === 'yes');
  });
}

/** Top-level statements that can be read-only (their whole tree is checked as well). */
const readOnlyTop = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt', 'TransactionStmt', 'CopyStmt']);

const kindNames: Readonly<Record<string, string>> = lookupTable({
  SelectStmt: 'select', InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge',
  DropdbStmt: 'drop_database', TruncateStmt: 'truncate', CreateStmt: 'create_table', IndexStmt: 'create_index',
  ViewStmt: 'create_view', CreatedbStmt: 'create_database', VariableSetStmt: 'set', VariableShowStmt: 'show',
  CreateTableAsStmt: 'create_table_as', CopyStmt: 'copy', DoStmt: 'do', CallStmt: 'call', RenameStmt: 'rename',
  TransactionStmt: 'transaction', CreateFunctionStmt: 'create_function', CreateTrigStmt: 'create_trigger',
  RuleStmt: 'create_rule', CreateSchemaStmt: 'create_schema', CreateExtensionStmt: 'create_extension',
  CreateSeqStmt: 'create_sequence', CreatePolicyStmt: 'create_policy', AlterPolicyStmt: 'alter_policy',
  PrepareStmt: 'prepare', ExecuteStmt: 'execute', DeallocateStmt: 'deallocate', CreateEventTrigStmt: 'create_event_trigger',
  LoadStmt: 'load',
});

/** Objects whose name others' code calls: renaming or moving one lets another take its place. */
const codeObjectTypes = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_VIEW', 'OBJECT_AGGREGATE', 'OBJECT_OPERATOR']);

/**
 * Objects whose name others' statements (and the grants that key on them) reach for data
 * (fourteenth pass): renaming one swaps what every later statement reads and writes. Two column
 * renames (`is_admin` ⇄ `is_verified`) change every row's meaning as an UPDATE of every row would;
 * a table renamed over a copy without row-level security serves that copy to every client; a
 * schema or database renamed takes the data away from the application.
 */
const dataObjectTypes = new Set(['OBJECT_TABLE', 'OBJECT_COLUMN', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SCHEMA', 'OBJECT_DATABASE', 'OBJECT_TYPE', 'OBJECT_DOMAIN', 'OBJECT_ATTRIBUTE']);

const tableObjectTypes = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE', 'OBJECT_INDEX']);

function snake(typeName: string): string {
  return typeName.replace(/Stmt$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function kindOf(type: string, body: Node): string {
  if (type === 'SelectStmt' && body.intoClause) return 'select_into';
  if (type === 'DropStmt') return `drop_${String(body.removeType ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').toLowerCase()}`;
  if (type === 'AlterTableStmt') return `alter_${String(body.objtype ?? 'OBJECT_TABLE').replace(/^OBJECT_/, '').toLowerCase()}`;
  if (type === 'GrantStmt') return body.is_grant ? 'grant' : 'revoke';
  if (type === 'GrantRoleStmt') return body.is_grant ? 'grant_role' : 'revoke_role';
  if (type === 'TransactionStmt' && preparedTransactionKinds[String(body.kind)]) return preparedTransactionKinds[String(body.kind)]!;
  return kindNames[type] ?? snake(type);
}

/** Every `{TypeName: body}` node in a tree in document order, without recursion (deeply nested SQL cannot blow the stack). */
function* nodes(root: unknown): Generator<[string, Node]> {
  const stack: Array<[unknown, string | undefined]> = [[root, undefined]];
  let visited = 0;
  while (stack.length) {
    const [v, type] = stack.pop()!;
    if (++visited > 1_000_000) throw new Error('SQL syntax tree too large to analyze');
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], undefined]);
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (type) yield [type, v as Node];
    // A RangeVar in a typed field (DeleteStmt.relation, IntoClause.rel …) comes unwrapped.
    else if (typeof (v as Node).relname === 'string') yield ['RangeVar', v as Node];
    const entries = Object.entries(v as Node);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i]!;
      if (!child || typeof child !== 'object') continue;
      const wrapped = /^[A-Z]/.test(k) && k !== 'RangeVar' && !Array.isArray(child);
      stack.push([child, wrapped ? k : undefined]);
    }
  }
}

function stringItems(list: unknown): string[] {
  const items = ((list as { List?: { items?: unknown[] } })?.List?.items ?? []) as Array<{ String?: { sval?: string } }>;
  return items.map((i) => i.String?.sval).filter((s): s is string => typeof s === 'string');
}

/**
 * A qualified name as one string: `auth.users`. A part holding a dot or a quote is written quoted
 * (`"auth.users"`, a table of that name in the search path), so no spelling of one name reads as another.
 */
function qualified(parts: string[]): string {
  return parts.map((p) => (/[."]/.test(p) ? `"${p.replaceAll('"', '""')}"` : p)).join('.');
}

/** The function's name as written, schema included (`pg_catalog.lower`, `evil.lower`, `lower`). */
function funcName(body: Node): string[] {
  return ((body.funcname ?? []) as Array<{ String?: { sval?: string } }>).map((p) => p.String?.sval ?? '');
}

/** Read-only only when it is the built-in itself: unqualified or in pg_catalog, compared whole. */
function isReadOnlyFunction(parts: string[]): boolean {
  const name = parts[parts.length - 1] ?? '';
  if (parts.length === 2 && parts[0] !== 'pg_catalog') return false;
  if (parts.length > 2) return false;
  return readOnlyFunctions.has(name);
}

function columnFree(expr: unknown): boolean {
  for (const [type] of nodes({ root: expr })) {
    if (type === 'ColumnRef' || type === 'CurrentOfExpr') return false;
  }
  return true;
}

/** An expression's shape without source positions, columns by their last name (`t.id` = `id`). */
function shape(expr: unknown): string {
  return JSON.stringify(expr, (k, v: unknown) => {
    if (k === 'location') return undefined;
    if (k === 'ColumnRef' && v && typeof v === 'object') {
      const fields = ((v as Node).fields ?? []) as Array<{ String?: { sval?: string }; A_Star?: unknown }>;
      const last = fields[fields.length - 1];
      return { col: last?.String?.sval ?? '*' };
    }
    return v;
  });
}

const alwaysTrueOps = new Set(['=', '>=', '<=']);
/** Pattern matches negated (NOT LIKE, NOT ILIKE, !~, !~*): the pattern names the rows spared. */
const negatedMatch = new Set(['!~~', '!~~*', '!~', '!~*']);
const alwaysFalseOps = new Set(['<>', '!=', '<', '>']);

function opName(e: Node): string {
  const name = (e.name ?? []) as Array<{ String?: { sval?: string } }>;
  return name[name.length - 1]?.String?.sval ?? '';
}

/** The columns an expression reads (by last name), or undefined when it holds a subquery. */
function columnsOf(expr: unknown): Set<string> | undefined {
  const out = new Set<string>();
  for (const [type, body] of nodes({ root: expr })) {
    if (type === 'SubLink') return undefined;
    if (type === 'ColumnRef') {
      const fields = (body.fields ?? []) as Array<{ String?: { sval?: string } }>;
      out.add(fields[fields.length - 1]?.String?.sval ?? '*');
    }
  }
  return out;
}

/**
 * Both sides read the same columns and no value names the rows kept (`id = id + 0`, `id < id + 1`,
 * `x BETWEEN x - 1 AND x + 1`, `id = ANY(ARRAY[id])`): whatever it computes, it cannot be shown to
 * spare any row, so it counts as touching all of them.
 */
function sameColumnsOnly(left: unknown, right: unknown): boolean {
  const a = columnsOf(left);
  const b = columnsOf(right);
  if (!a || !b || a.size === 0 || a.size !== b.size) return false;
  for (const c of a) if (!b.has(c)) return false;
  return true;
}

/** Strings a regular expression is tried on: one that finds a match in each matches any string. */
const regexSamples = ['', 'a', 'Zz0', '7', '-8.5', ' x\ny ', 'é', '%_*'];

/**
 * Whether a pattern matches every string (`''`, `.*`, `^`, `a*`, `(x)?`, `x|`): it finds a match in
 * each sample. Read with JavaScript's regular expressions, close to PostgreSQL's for such patterns.
 * The pattern is the agent's: compiled only when `boundedPattern` says backtracking over the short
 * samples stays small (nested quantifiers, `((x*)*)*`, take seconds on five characters). One too
 * intricate to run, or that JavaScript cannot compile, is taken to match everything (fail closed:
 * the condition is not shown to spare any row).
 */
export function regexMatchesAnything(pattern: string): boolean {
  if (!boundedPattern(pattern)) return true;
  let re: RegExp;
  try {
    // PostgreSQL's `.` matches a line break too (twenty-second pass: `~ '^.*$'` was narrow): dotAll.
    re = new RegExp(pattern, 'us');
  } catch {
    return true;
  }
  return regexSamples.every((sample) => re.test(sample));
}

/**
 * Whether a `SIMILAR TO` pattern matches every string (twenty-first pass: `'%|x'`, `'(%|a)'`,
 * `'_*'`, `'%(a)*'` were narrow; only patterns of `%()*+?|` alone were tried): translated as
 * PostgreSQL's `similar_to_escape` does (`%` is `.*`, `_` is `.`, `.`, `^`, `$` and escaped
 * characters literal, the whole anchored) and tried on the samples.
 */
function similarMatchesAnything(pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    // `.` of PostgreSQL's regular expressions matches a line break too.
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += literal(pattern[++i]!);
    else if (c === '[') {
      // A bracket expression is copied as it is (`%` and `_` are themselves there).
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return true;
      re += pattern.slice(i, end + 1);
      i = end;
    }
    else if ('.^$/\\'.includes(c)) re += literal(c);
    else re += c;
  }
  return regexMatchesAnything(`^(?:${re})$`);
}
const literal = (c: string): string => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c);

/** Quantifiers and alternatives a pattern may hold to be run on the samples. */
const MAX_PATTERN_CHOICES = 6;

/**
 * A pattern whose backtracking over a sample of a few characters is small: at most 200 characters,
 * MAX_PATTERN_CHOICES quantifiers and as many `|`, no quantifier on a group that holds one, no
 * back-reference. One linear scan (escapes and bracket expressions skipped).
 */
function boundedPattern(p: string): boolean {
  if (p.length > 200) return false;
  let quantifiers = 0;
  let alternatives = 0;
  let inClass = false;
  const groups: boolean[] = []; // per open group: holds a quantifier
  let closedQuantified = false; // the token just before is a group that holds a quantifier
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (inClass) {
      if (c === '\\') i++;
      else if (c === ']') inClass = false;
      continue;
    }
    let groupEnd = false;
    if (c === '\\') {
      const next = p[i + 1] ?? '';
      if ((next >= '1' && next <= '9') || next === 'k') return false; // back-references
      i++;
    } else if (c === '[') inClass = true;
    else if (c === '(') groups.push(false);
    else if (c === ')') {
      const held = groups.pop() ?? false;
      if (held && groups.length) groups[groups.length - 1] = true;
      closedQuantified = held;
      groupEnd = true;
    } else if (c === '|') {
      if (++alternatives > MAX_PATTERN_CHOICES) return false;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (closedQuantified) return false;
      if (++quantifiers > MAX_PATTERN_CHOICES) return false;
      if (groups.length) groups[groups.length - 1] = true;
      if (c === '{') while (i + 1 < p.length && p[i] !== '}') i++;
      continue; // `a**` or `a*?` count as two: closedQuantified stays as it was
    }
    if (!groupEnd) closedQuantified = false;
  }
  return true;
}

/**
 * The one output of a subquery that reads no table (`(SELECT 0)`, `(SELECT '')`): a constant as
 * written there (twenty-fifth pass: `id > (SELECT 0)` stood narrow where `id > 0` was held).
 */
function constantSubquery(e: Node | undefined): unknown {
  const link = e?.SubLink as Node | undefined;
  const select = (link?.subselect as Node | undefined)?.SelectStmt as Node | undefined;
  if (link?.subLinkType !== 'EXPR_SUBLINK' || !select || select.op !== 'SETOP_NONE' || select.fromClause || select.whereClause || select.groupClause || select.havingClause || select.limitOffset || select.limitCount) return undefined;
  const targets = (select.targetList ?? []) as Array<{ ResTarget?: { val?: unknown } }>;
  return targets.length === 1 ? targets[0]!.ResTarget?.val : undefined;
}

/** A string constant, or the pattern of `LIKE … ESCAPE` / `SIMILAR TO` (a call of `like_escape`, `similar_to_escape` on it). */
function constantText(expr: unknown, depth = 0): string | undefined {
  const e = expr as Node | undefined;
  if (depth > 8) return undefined;
  if (e?.SubLink) return constantText(constantSubquery(e), depth + 1);
  const sval = ((e?.A_Const as Node | undefined)?.sval as { sval?: string } | undefined)?.sval;
  if (sval !== undefined) return sval;
  // `X'25'`: the bytes a hex literal spells, as MySQL's reading writes its `0x25` (a string where one is wanted).
  const bsval = ((e?.A_Const as Node | undefined)?.bsval as { bsval?: string } | undefined)?.bsval;
  if (bsval !== undefined && /^x(?:[0-9a-fA-F]{2})*$/.test(bsval)) return Buffer.from(bsval.slice(1), 'hex').toString('latin1');
  const call = e?.FuncCall as Node | undefined;
  const name = call ? funcName(call).pop() : undefined;
  if (name === 'like_escape' || name === 'similar_to_escape' || name === 'similar_escape') return constantText(((call!.args ?? []) as unknown[])[0]);
  if (e?.TypeCast) return constantText((e.TypeCast as Node).arg, depth + 1);
  return undefined;
}

/**
 * Key words: a column so named (`id`, `user_id`, `userId`, `rowid`) holds a key, non-zero in every
 * row. Twenty-seventh pass: Oracle's pseudocolumns `ROWNUM` (1, 2, 3 … as rows are read) and
 * `ORA_ROWSCN` (the change number of the row's last write, above 0), which an endpoint of unknown
 * dialect (ORDS's REST-enabled SQL) may be: `DELETE FROM users WHERE ROWNUM > 0` was a narrow write.
 */
const keyWords = new Set(['id', 'pk', 'rowid', 'oid', 'rownum', 'rowscn']);
export const keyName = (name: string): boolean => keyWords.has(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).pop() ?? '');

/**
 * A key alone as a condition, as is or through arithmetic that keeps it non-zero (`WHERE id`,
 * `id + 0`, `-id`, `abs(id)`, `IFNULL(id, 1)`, `CAST(id AS SIGNED)`): MySQL and SQLite take a
 * number as true where it is not 0, so it holds for every row (twenty-fourth pass; PostgreSQL
 * refuses a number there). A column named otherwise (a flag, a count, a date) stays a condition.
 */
function keyValue(e: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  const n = e as Node | undefined;
  const fields = ((n?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string } }>;
  const last = fields[fields.length - 1]?.String?.sval;
  if (last !== undefined) return keyName(last);
  if (n?.TypeCast) return keyValue((n.TypeCast as Node).arg, depth + 1);
  const nonZero = (a: unknown): boolean => numericReadings(a).some((v) => v !== 0);
  const coalesce = ((n?.CoalesceExpr as Node | undefined)?.args ?? undefined) as unknown[] | undefined;
  if (coalesce) return coalesce.length >= 1 && keyValue(coalesce[0], depth + 1) && coalesce.slice(1).every(nonZero);
  const call = n?.FuncCall as Node | undefined;
  if (call) {
    const name = funcName(call).pop()?.toLowerCase() ?? '';
    const args = (call.args ?? []) as unknown[];
    if (name === 'abs') return args.length === 1 && keyValue(args[0], depth + 1);
    return ['ifnull', 'nvl'].includes(name) && args.length >= 1 && keyValue(args[0], depth + 1) && args.slice(1).every(nonZero);
  }
  const x = n?.A_Expr as Node | undefined;
  if (!x || x.kind !== 'AEXPR_OP') return false;
  const op = opName(x);
  if (x.lexpr === undefined) return (op === '-' || op === '+') && keyValue(x.rexpr, depth + 1);
  const constant = (a: unknown): number | undefined => numericReadings(a)[0];
  if (op === '+' || op === '-') return (keyValue(x.lexpr, depth + 1) && constant(x.rexpr) === 0) || (op === '+' && keyValue(x.rexpr, depth + 1) && constant(x.lexpr) === 0);
  if (op === '*') return (keyValue(x.lexpr, depth + 1) && (constant(x.rexpr) ?? 0) !== 0) || (keyValue(x.rexpr, depth + 1) && (constant(x.lexpr) ?? 0) !== 0);
  return false;
}

/**
 * True when a condition holds for every row whatever the data: no column at all (`true`, `1=1`,
 * `$1=$1`), a column compared with itself (`id = id`, `t.id >= id`, `x IS NOT DISTINCT FROM x`),
 * `LIKE '%'`, an OR with such a branch, an AND of such conditions, NOT of a contradiction.
 */
function tautological(expr: unknown, target?: string): boolean {
  if (!expr) return true;
  if (columnFree(expr)) return true;
  const [type, body] = (Object.entries(expr as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return false;
  if (type === 'BoolExpr') {
    const args = (body.args ?? []) as unknown[];
    if (body.boolop === 'OR_EXPR') return args.some((a) => tautological(a, target));
    if (body.boolop === 'AND_EXPR') return args.every((a) => tautological(a, target));
    if (body.boolop === 'NOT_EXPR') return args.length === 1 && (contradictory(args[0], target) || onlyNames(args[0]) || (args[0] as Node)?.NullTest !== undefined && ((args[0] as Node).NullTest as Node).nulltesttype === 'IS_NULL');
    return false;
  }
  if (type === 'SubLink') return selfSubquery(body, target);
  if (numbersAreConditions && keyValue(expr)) return true;
  // `CASE WHEN id = 1 THEN true ELSE true END`: every branch holds, whichever the row takes (no ELSE is NULL).
  if (type === 'CaseExpr') {
    const results = ((body.args ?? []) as Array<{ CaseWhen?: Node }>).map((w) => w.CaseWhen?.result);
    return body.defresult !== undefined && [...results, body.defresult].every((r) => r !== undefined && tautological(r, target));
  }
  // `x IS NOT NULL` spares only rows without a value (none, for a key).
  if (type === 'NullTest') return body.nulltesttype === 'IS_NOT_NULL';
  // `(c) IS TRUE` and `(c) IS NOT FALSE` hold where c does; `(c) IS NOT TRUE` and `(c) IS FALSE` where it fails.
  if (type === 'BooleanTest') {
    const test = String(body.booltesttype);
    if (test === 'IS_TRUE' || test === 'IS_NOT_FALSE') return tautological(body.arg, target);
    if (test === 'IS_NOT_TRUE' || test === 'IS_FALSE') return contradictory(body.arg, target) || onlyNames(body.arg);
    return false;
  }
  if (type === 'A_Expr') {
    const sameSides = body.lexpr !== undefined && shape(body.lexpr) === shape(body.rexpr);
    if (body.kind === 'AEXPR_OP' && sameSides && alwaysTrueOps.has(opName(body))) return true;
    // A range whose bound PostgreSQL reads past every value: `score < 'Infinity'`, `> '-inf'`, `<
    // 'NaN'` (NaN sorts above every number), `created_at < 'infinity'`; and `email >= ''`, which
    // every text meets (twenty-second pass: each was a narrow write, as PostgREST's `lt.Infinity`).
    if (body.kind === 'AEXPR_OP' && ['<', '<=', '>', '>='].includes(opName(body))) {
      const right = constantText(body.rexpr);
      const bound = right ?? constantText(body.lexpr);
      if (bound !== undefined && /^\s*[+-]?(infinity|inf|nan)\s*$/i.test(bound)) return true;
      // `email > ''` spares only the empty text, as `email <> ''` does (twenty-fourth pass).
      if (bound === '' && (right !== undefined ? ['>=', '>'] : ['<=', '<']).includes(opName(body))) return true;
      if (pastEveryInteger(opName(body), body.lexpr, body.rexpr)) return true;
      if (pastOwnExtreme(opName(body), body.lexpr, body.rexpr, target)) return true;
      if (pastOwnBound(opName(body), body.lexpr, body.rexpr, target)) return true;
      if (rowComparisonHolds(opName(body), body.lexpr, body.rexpr, target)) return true;
      // A date before 1900 or from 2100 on (`created_at > '0001-01-01'`, `< '9999-12-31'`, `>
      // '4713-01-01 BC'`): past every timestamp a table plausibly holds, as the clock moved by
      // CLOCK_REACH_SECONDS is (twenty-fifth pass: a written date was a narrow write).
      const year = dateYear(right ?? constantText(body.lexpr));
      const columnSide = right !== undefined ? body.lexpr : body.rexpr;
      const up = (right !== undefined ? ['>=', '>'] : ['<=', '<']).includes(opName(body));
      if (year !== undefined && readsColumn(columnSide) && (up ? year <= 1900 : year >= 2100)) return true;
      // The least or greatest UUID on the side that takes every other value.
      const edge = right !== undefined ? uuidExtreme(right) : uuidExtreme(constantText(body.lexpr));
      const upward = right !== undefined ? ['>=', '>'] : ['<=', '<'];
      if (edge !== undefined && upward.includes(opName(body)) === (edge === 'least')) return true;
      // Twenty-seventh pass: a UUID held as text (SQLite, MySQL's CHAR(36), a text column):
      // every one sorts at or above a run of zeros of any length (`uuid > '0'`, `>= '0000'`,
      // `> '00000000-0000'`), and below a letter past `f` (`uuid < 'g'`).
      const textEdge = uuidTextEdge(right ?? constantText(body.lexpr), columnSide);
      if (textEdge !== undefined && upward.includes(opName(body)) === (textEdge === 'least')) return true;
    }
    if (betweenOwnBounds(body, target)) return true;
    // `created_at BETWEEN '0001-01-01' AND '9999-12-31'` (or `'-infinity' AND 'infinity'`): both ends past every timestamp.
    if ((body.kind === 'AEXPR_BETWEEN' || body.kind === 'AEXPR_BETWEEN_SYM') && readsColumn(body.lexpr)) {
      const ends = ((((body.rexpr as Node | undefined)?.List as Node | undefined)?.items ?? []) as unknown[]).map((e) => {
        const text = constantText(e);
        const year = /^\s*[+-]?(infinity|inf)\s*$/i.test(text ?? '') ? (text!.includes('-') ? -Infinity : Infinity) : dateYear(text);
        return year;
      });
      const [lo, hi] = body.kind === 'AEXPR_BETWEEN_SYM' ? [Math.min(ends[0]!, ends[1]!), Math.max(ends[0]!, ends[1]!)] : [ends[0]!, ends[1]!];
      if (ends.length === 2 && ends.every((y) => y !== undefined) && lo <= 1900 && hi >= 2100) return true;
    }
    if ((body.kind === 'AEXPR_BETWEEN' || body.kind === 'AEXPR_BETWEEN_SYM') && isColumn(body.lexpr)) {
      const [lo, hi] = ((((body.rexpr as Node | undefined)?.List as Node | undefined)?.items ?? []) as unknown[]).map(numericReadings);
      const least = keyName(columnName(body.lexpr) ?? '') ? 1 : -INT8_BOUND;
      if (lo?.some((l) => hi?.some((h) => Math.min(l, h) <= least && Math.max(l, h) >= INT8_BOUND))) return true;
    }
    if (body.kind === 'AEXPR_OP' && clockReachesAll(body)) return true;
    // A range over `ctid` (`ctid > '(0,0)'`) is where rows happen to be stored, no value of theirs:
    // every row, on a PostgreSQL service (elsewhere a table may have a column of that name).
    if (judgedSystemColumns === sharedSystemColumns && body.kind === 'AEXPR_OP' && ['<', '<=', '>', '>='].includes(opName(body))
      && ((sharedSystemColumn(body.lexpr, ctidOnly) && fixedValue(body.rexpr)) || (sharedSystemColumn(body.rexpr, ctidOnly) && fixedValue(body.lexpr)))) return true;
    // A system column many rows share (`tableoid`, `xmax` …) against one value: every row or none.
    if ((sharedSystemColumn(body.lexpr, judgedSystemColumns) && fixedValue(body.rexpr)) || (sharedSystemColumn(body.rexpr, judgedSystemColumns) && fixedValue(body.lexpr))) return true;
    if (body.kind !== 'AEXPR_DISTINCT' && body.lexpr !== undefined && body.rexpr !== undefined && sameColumnsOnly(body.lexpr, body.rexpr)) return true;
    if (body.kind === 'AEXPR_OP' && (opName(body) === '~' || opName(body) === '~*')) {
      const pattern = constantText(body.rexpr);
      if (pattern !== undefined && regexMatchesAnything(pattern)) return true;
    }
    // `~~` and `~~*` are LIKE and ILIKE spelled as operators; `SIMILAR TO '%'` matches any string.
    if (body.kind === 'AEXPR_OP' && (opName(body) === '~~' || opName(body) === '~~*')) {
      const pattern = constantText(body.rexpr);
      if (pattern !== undefined && /^%+$/.test(pattern)) return true;
    }
    // `NOT LIKE 'a%'`, `!~ 'x'`, `NOT SIMILAR TO 'x'`: like `<>`, the pattern names the rows spared.
    if ((body.kind === 'AEXPR_OP' || body.kind === 'AEXPR_LIKE' || body.kind === 'AEXPR_ILIKE' || body.kind === 'AEXPR_SIMILAR') && negatedMatch.has(opName(body))) return true;
    // `x LIKE ANY (ARRAY['%'])`, `x ~ ANY ('{"", a}')`: a pattern every string matches among them.
    // `x LIKE ALL (ARRAY['%'])` when every one is.
    if ((body.kind === 'AEXPR_OP_ANY' || body.kind === 'AEXPR_OP_ALL') && ['~~', '~~*', '~', '~*'].includes(opName(body))) {
      // The list cast or not (`ANY (ARRAY['a%', '%']::text[])`).
      let list = body.rexpr as Node | undefined;
      for (let i = 0; i < 4 && list?.TypeCast; i++) list = (list.TypeCast as Node).arg as Node | undefined;
      const elements = ((list?.A_ArrayExpr as Node | undefined)?.elements ?? []) as unknown[];
      const regex = opName(body).startsWith('~~') ? (p: string) => /^%+$/.test(p) : regexMatchesAnything;
      const matches = (e: unknown): boolean => {
        const p = constantText(e);
        return p !== undefined && regex(p);
      };
      if (elements.length > 0 && (body.kind === 'AEXPR_OP_ANY' ? elements.some(matches) : elements.every(matches))) return true;
    }
    if (body.kind === 'AEXPR_SIMILAR' && opName(body) === '~') {
      const pattern = constantText(body.rexpr);
      if (pattern !== undefined && similarMatchesAnything(pattern)) return true;
    }
    if (body.kind === 'AEXPR_NOT_DISTINCT' && sameSides) return true;
    // `id <> 7`, `id NOT IN (1, 2)`, `id IS DISTINCT FROM 7`: the values name the rows spared, not the rows touched.
    if (body.kind === 'AEXPR_OP' && (opName(body) === '<>' || opName(body) === '!=')) return true;
    if (body.kind === 'AEXPR_IN' && opName(body) === '<>') return true;
    // `id <> ALL (ARRAY[1, 2])` is `NOT IN (1, 2)`, `id <> ANY (…)` holds wherever the row differs
    // from one of them (seventeenth pass: both were narrow writes on Supabase and Neon).
    if ((body.kind === 'AEXPR_OP_ANY' || body.kind === 'AEXPR_OP_ALL') && (opName(body) === '<>' || opName(body) === '!=')) return true;
    if (body.kind === 'AEXPR_DISTINCT') return true;
    if ((body.kind === 'AEXPR_LIKE' || body.kind === 'AEXPR_ILIKE') && opName(body).startsWith('~~') && !opName(body).startsWith('!')) {
      const pattern = constantText(body.rexpr);
      if (pattern !== undefined && /^%+$/.test(pattern)) return true;
    }
  }
  return false;
}

/** A column cast to boolean collapses its rows to two values (`id::bool = true` holds for every id but 0). */
const collapsingTypes = new Set(['bool', 'boolean']);
/**
 * PostgreSQL's system columns whose value is shared by many rows, or by all: `tableoid` is the
 * table's own, `xmax` is 0 on every row no transaction has locked or deleted, `cmin`/`cmax` the
 * command within the writing transaction (0 for most), `xmin` the writing transaction (every row
 * of a bulk load). `DELETE FROM users WHERE tableoid = 'users'::regclass` (or `xmax = 0`) deleted
 * every row of a real PostgreSQL 15 (twenty-second pass). `ctid` names one row.
 */
const sharedSystemColumns = new Set(['tableoid', 'xmin', 'xmax', 'cmin', 'cmax']);
/**
 * Which of them a WHERE is judged by: all on a PostgreSQL service (no table may have a column of
 * those names there), only `tableoid` where the server may be SQLite or MySQL, whose tables may
 * have an `xmin` or `xmax` column of their own (a map's bounding boxes). Set around each judgement.
 */
const tableoidOnly = new Set(['tableoid']);
const ctidOnly = new Set(['ctid']);
let judgedSystemColumns: ReadonlySet<string> = tableoidOnly;
/** The judged DELETE's or UPDATE's own CTEs by name (plain SELECTs), set around each judgement. */
let judgedCtes: ReadonlyMap<string, unknown> = new Map();
/**
 * Views the request's own statements made so far, by name as written (`schema.view` or `view`):
 * a later DELETE or UPDATE through one is judged through its definition too (throughDefinition).
 * Reset by analyzeSql for each request.
 */
let requestViews = new Map<string, unknown>();

/**
 * A DELETE's or UPDATE's WHERE as it reaches the table below a view the request made, or below the
 * statement's own CTE (SQL Server and Oracle delete through one): each column the view computes
 * replaced by its expression, the view's own WHERE ANDed on, and the base table as the target.
 * Twenty-seventh pass: `CREATE VIEW v AS SELECT id, 1 AS k FROM users; DELETE FROM v WHERE k = 1`
 * (also `SELECT *, 'a' AS k`, `id AS k` then `WHERE id = k`) deleted or updated every row of a real
 * PostgreSQL 15 (a view over one table is updatable; its constant columns are values of every row)
 * and was a narrow medium write. Undefined when the target is neither, or the definition is no
 * plain SELECT over one table (the server refuses a write through that without rules or triggers).
 */
function throughDefinition(relation: Node | undefined, where: unknown): { where: unknown; target: string } | undefined {
  if (!relation || typeof relation.relname !== 'string') return undefined;
  const name = relation.relname;
  const query = relation.schemaname === undefined
    ? (judgedCtes.get(name) ?? requestViews.get(name) ?? requestViews.get(`public.${name}`))
    : requestViews.get(`${String(relation.schemaname)}.${name}`);
  const select = (query as Node | undefined)?.SelectStmt as Node | undefined;
  const from = (select?.fromClause ?? []) as Array<{ RangeVar?: Node }>;
  const base = from.length === 1 ? from[0]?.RangeVar : undefined;
  if (!select || !base || typeof base.relname !== 'string' || (select.op !== undefined && select.op !== 'SETOP_NONE')
    || select.groupClause !== undefined || select.distinctClause !== undefined || select.havingClause !== undefined) return undefined;
  const computed = new Map<string, unknown>();
  for (const item of (select.targetList ?? []) as Array<{ ResTarget?: Node }>) {
    const target = item.ResTarget;
    const fields = (((target?.val as Node | undefined)?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string } }>;
    const out = target?.name ?? fields[fields.length - 1]?.String?.sval;
    if (typeof out === 'string' && !computed.has(out)) computed.set(out, target!.val);
  }
  const alias = String(((relation.alias as Node | undefined)?.aliasname) ?? name);
  let budget = 20_000;
  const rewrite = (e: unknown): unknown => {
    if (--budget < 0) throw new Error('SQL syntax tree too large to analyze');
    if (Array.isArray(e)) return e.map(rewrite);
    if (!e || typeof e !== 'object') return e;
    const ref = (e as Node).ColumnRef as Node | undefined;
    if (ref) {
      const fields = (ref.fields ?? []) as Array<{ String?: { sval?: string } }>;
      const last = fields[fields.length - 1]?.String?.sval;
      const ours = fields.length === 1 || (fields.length === 2 && fields[0]?.String?.sval === alias);
      if (ours && last !== undefined && computed.has(last)) return computed.get(last);
      return ours && last !== undefined ? { ColumnRef: { fields: [{ String: { sval: last } }] } } : e;
    }
    // A subquery's own columns are its own tables'; only its comparison's left side is the row's.
    const link = (e as Node).SubLink as Node | undefined;
    if (link) return { SubLink: { ...link, testexpr: rewrite(link.testexpr) } };
    const out: Node = {};
    for (const [k, v] of Object.entries(e as Node)) out[k] = rewrite(v);
    return out;
  };
  const seen = where === undefined ? undefined : rewrite(where);
  const own = select.whereClause;
  const both = seen === undefined ? own : own === undefined ? seen : { BoolExpr: { boolop: 'AND_EXPR', args: [seen, own] } };
  return { where: both, target: base.relname };
}

/**
 * Whether a DELETE's or UPDATE's WHERE names the target's row at all (twenty-seventh pass): a
 * condition only on another table (`DELETE FROM users USING orders o WHERE o.id = 5`, `UPDATE users
 * … FROM orders o WHERE o.id = 5`, `WHERE EXISTS (SELECT 1 FROM orders WHERE id = 5)`, `WHERE 5 IN
 * (SELECT id FROM orders)`) holds for every row of the target or for none: each was a narrow
 * medium write, and deleted every row of a real PostgreSQL 15. A column of the target is one
 * unqualified in the statement's own WHERE, or qualified by the target's name or alias outside a
 * subquery that declares that name again; a name unqualified inside a subquery with its own FROM
 * is that subquery's (PostgreSQL looks there first). `WHERE CURRENT OF` names the cursor's row.
 */
function namesTargetRow(where: unknown, relation: Node | undefined): boolean {
  const alias = String(((relation?.alias as Node | undefined)?.aliasname) ?? relation?.relname ?? '');
  let budget = 100_000;
  const visit = (e: unknown, inner: boolean, shadowed: boolean): boolean => {
    if (--budget < 0) return true;
    if (Array.isArray(e)) return e.some((x) => visit(x, inner, shadowed));
    if (!e || typeof e !== 'object') return false;
    const node = e as Node;
    if (node.CurrentOfExpr !== undefined) return true;
    const ref = node.ColumnRef as Node | undefined;
    if (ref) {
      const fields = ((ref.fields ?? []) as Array<{ String?: { sval?: string } }>).map((f) => f.String?.sval);
      if (fields.length === 1) return !inner;
      const qualifier = fields[fields.length - 2];
      return !shadowed && qualifier === alias;
    }
    const select = node.SelectStmt as Node | undefined;
    if (select) {
      const declared = ((select.fromClause ?? []) as Array<{ RangeVar?: Node; RangeSubselect?: Node }>).map((f) =>
        String(((f.RangeVar?.alias ?? f.RangeSubselect?.alias) as Node | undefined)?.aliasname ?? f.RangeVar?.relname ?? ''));
      const hasFrom = declared.length > 0;
      return Object.values(select).some((v) => visit(v, inner || hasFrom, shadowed || declared.includes(alias)));
    }
    return Object.values(node).some((v) => visit(v, inner, shadowed));
  };
  return visit(where, false, false);
}

/**
 * Snowflake's and Databricks' `IDENTIFIER('id')`: the column (or table) the string names, read by
 * PostgreSQL's grammar as a call. `DELETE FROM users WHERE id = IDENTIFIER('id')` is `WHERE id =
 * id` there (twenty-seventh pass: a narrow medium write to their statement APIs). On an endpoint
 * of unknown dialect, each such call with a string is read as the column it names.
 */
function identifiersNamed(expr: unknown): unknown {
  let budget = 20_000;
  let found = false;
  const rewrite = (e: unknown): unknown => {
    if (--budget < 0) throw new Error('SQL syntax tree too large to analyze');
    if (Array.isArray(e)) return e.map(rewrite);
    if (!e || typeof e !== 'object') return e;
    const call = (e as Node).FuncCall as Node | undefined;
    const args = (call?.args ?? []) as unknown[];
    if (call && funcName(call).join('.').toLowerCase() === 'identifier' && args.length === 1) {
      const text = constantText(args[0]);
      if (text !== undefined && text.length > 0 && text.length <= 255) {
        found = true;
        // Unquoted parts fold as the server folds them (either way, a column compared with itself stays one).
        const parts = text.split('.').map((p) => (/^".*"$/.test(p) ? p.slice(1, -1) : p.toLowerCase()));
        return { ColumnRef: { fields: parts.map((sval) => ({ String: { sval } })) } };
      }
    }
    const out: Node = {};
    for (const [k, v] of Object.entries(e as Node)) out[k] = rewrite(v);
    return out;
  };
  const rewritten = rewrite(expr);
  return found ? rewritten : undefined;
}
/** One of `names` (sharedSystemColumns by default), maybe cast or collated (`tableoid::regclass::text`). */
function sharedSystemColumn(e: unknown, names: ReadonlySet<string> = sharedSystemColumns): boolean {
  const n = e as Node | undefined;
  if (n?.TypeCast !== undefined) return sharedSystemColumn((n.TypeCast as Node).arg, names);
  if (n?.CollateClause !== undefined) return sharedSystemColumn((n.CollateClause as Node).arg, names);
  const fields = ((n?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string } }>;
  return fields.length > 0 && names.has((fields[fields.length - 1]?.String?.sval ?? '').toLowerCase());
}
/** A column as it is stored, or cast or collated to a type that keeps its values apart (`id::text`, `email COLLATE "C"`). */
const isColumn = (e: unknown): boolean => {
  const n = e as Node | undefined;
  if (n?.ColumnRef !== undefined) return !sharedSystemColumn(n);
  if (n?.CollateClause !== undefined) return isColumn((n.CollateClause as Node).arg);
  if (n?.TypeCast === undefined) return false;
  const cast = n.TypeCast as Node;
  const names = (((cast.typeName as Node | undefined)?.names ?? []) as Array<{ String?: { sval?: string } }>).map((x) => x.String?.sval ?? '');
  return !collapsingTypes.has(names[names.length - 1] ?? '') && isColumn(cast.arg);
};
const isValue = (e: unknown): boolean => {
  const n = e as Node | undefined;
  return (n?.A_Const !== undefined && (n.A_Const as Node).isnull !== true) || n?.ParamRef !== undefined || (n?.TypeCast !== undefined && isValue((n.TypeCast as Node).arg));
};

/**
 * True when a WHERE clause plainly narrows the rows by its values, whatever the data: a column equal
 * to a value or a parameter (`id = $1::uuid`), in a list of values, NULL, or matched against a
 * constant pattern tautological() did not flag, alone or ANDed with anything.
 */
function plainlyNarrow(expr: unknown): boolean {
  const [type, body] = (Object.entries((expr ?? {}) as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return false;
  if (type === 'BoolExpr') return body.boolop === 'AND_EXPR' && ((body.args ?? []) as unknown[]).some(plainlyNarrow);
  if (type === 'NullTest') return body.nulltesttype === 'IS_NULL' && isColumn(body.arg);
  if (type !== 'A_Expr') return false;
  // A column matched against a constant pattern (`name ~ '^a'`, `LIKE 'a%'`, `SIMILAR TO 'a%'`):
  // tautological() has tried the pattern on sample strings; one every string matches was flagged there.
  const op = opName(body);
  const matching = body.kind === 'AEXPR_LIKE' || body.kind === 'AEXPR_ILIKE' || body.kind === 'AEXPR_SIMILAR' || (body.kind === 'AEXPR_OP' && ['~', '~*', '~~', '~~*'].includes(op));
  if (matching && !op.startsWith('!')) return isColumn(body.lexpr) && constantText(body.rexpr) !== undefined;
  if (op !== '=') return false;
  if (body.kind === 'AEXPR_OP') return (isColumn(body.lexpr) && isValue(body.rexpr)) || (isValue(body.lexpr) && isColumn(body.rexpr));
  const list = ((body.rexpr as Node | undefined)?.List as Node | undefined)?.items;
  return body.kind === 'AEXPR_IN' && isColumn(body.lexpr) && Array.isArray(list) && list.length > 0 && list.every(isValue);
}

/** One value for every row: an expression that reads no column and holds no subquery (`lower($1)`, `now() - interval '1 day'`). */
const fixedValue = (e: unknown): boolean => e !== undefined && columnsOf(e)?.size === 0;

const clockFunctions = new Set(['now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp']);
/** SQLite's clock (`datetime('now', '-30 days')`, `unixepoch()`), and what a number added to each counts. */
const sqliteClockFunctions: Readonly<Record<string, number>> = lookupTable({ datetime: 0, date: 86400, time: 0, julianday: 86400, unixepoch: 1, strftime: 0 });
/** An interval type's bare-number field (`interval '1000' year`): the lowest field its typmod names. */
function bareIntervalUnit(cast: Node): number {
  const mask = ((((cast.typeName as Node | undefined)?.typmods ?? []) as Array<{ A_Const?: { ival?: { ival?: number } } }>)[0]?.A_Const?.ival?.ival) ?? 0x7fff;
  const fields: Array<[number, number]> = [[1 << 12, 1], [1 << 11, 60], [1 << 10, 3600], [1 << 3, 86400], [1 << 1, MONTH], [1 << 2, YEAR]];
  return fields.find(([bit]) => (mask & bit) !== 0)?.[1] ?? 1;
}
/** Seconds a constant shift spells: an interval (`interval '30 days'`, `'1000 years'`), or a number in `numberUnit` seconds. */
function shiftSeconds(expr: unknown, numberUnit: number): number | undefined {
  const e = expr as Node | undefined;
  const c = e?.A_Const as Node | undefined;
  // `{ival: {}}` is 0; a float's digits are text.
  const fval = (c?.fval as { fval?: string } | undefined)?.fval;
  const num = c?.ival !== undefined ? ((c.ival as { ival?: number }).ival ?? 0) : fval !== undefined ? Number(fval) : undefined;
  if (num !== undefined) return numberUnit > 0 && Number.isFinite(num) ? num * numberUnit : undefined;
  const text = constantText(e);
  if (text === undefined) return undefined;
  const cast = e?.TypeCast as Node | undefined;
  return intervalSeconds(text, cast ? bareIntervalUnit(cast) : 1);
}
/**
 * The current time, maybe cast or moved by a constant (`now()`, `CURRENT_DATE - 7`, `now() -
 * interval '30 days'`, SQLite's `datetime('now', '-30 days')`), as how far it is moved in seconds
 * and what a number added to it counts: which rows a column compared with it reaches, the data and
 * the clock decide, as long as the move stays within CLOCK_REACH_SECONDS (clockReachesAll).
 * Undefined for any other computation (`greatest(now(), 'infinity')` is past every row) and for
 * a shift it cannot read.
 */
function clockShift(expr: unknown): { seconds: number; numberUnit: number } | undefined {
  const [type, body] = (Object.entries((expr ?? {}) as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return undefined;
  if (type === 'SQLValueFunction') return /TIME|DATE/.test(String(body.op)) ? { seconds: 0, numberUnit: /DATE/.test(String(body.op)) ? 86400 : 0 } : undefined;
  if (type === 'FuncCall') {
    const name = (funcName(body).pop() ?? '').toLowerCase();
    const args = (body.args ?? []) as unknown[];
    if (clockFunctions.has(name)) return args.length === 0 ? { seconds: 0, numberUnit: 0 } : undefined;
    const unit = sqliteClockFunctions[name];
    if (unit === undefined || funcName(body).length > 1) return undefined;
    if (name === 'unixepoch' && args.length === 0) return { seconds: 0, numberUnit: unit };
    const texts = args.map(constantText);
    const [now, ...modifiers] = name === 'strftime' ? texts.slice(1) : texts;
    if (now?.trim().toLowerCase() !== 'now' || texts.some((x) => x === undefined)) return undefined;
    const seconds = sqliteModifierSeconds(modifiers as string[]);
    return seconds === undefined ? undefined : { seconds, numberUnit: name === 'strftime' ? 0 : unit };
  }
  if (type === 'TypeCast') return clockShift(body.arg);
  if (type !== 'A_Expr' || body.kind !== 'AEXPR_OP' || !['+', '-'].includes(opName(body))) return undefined;
  const sign = opName(body) === '-' ? -1 : 1;
  const left = clockShift(body.lexpr);
  // `interval '1 day' + now()` as `now() + interval '1 day'`.
  const right = left === undefined && sign === 1 ? clockShift(body.rexpr) : undefined;
  const base = left ?? right;
  if (!base) return undefined;
  const by = shiftSeconds(left ? body.rexpr : body.lexpr, base.numberUnit);
  return by === undefined ? undefined : { seconds: base.seconds + sign * by, numberUnit: base.numberUnit };
}

/**
 * A column against the clock, moved past every timestamp a table plausibly holds in the direction
 * that takes them all: `created_at < now() + interval '1000 years'`, `> now() - interval '1000
 * years'`, `CURRENT_DATE + 365000 > created_at` (twenty-second pass, follow-up: each was a narrow write).
 */
function clockReachesAll(body: Node): boolean {
  const op = opName(body);
  if (!['<', '<=', '>', '>='].includes(op)) return false;
  const onLeft = clockShift(body.rexpr) !== undefined;
  const shift = clockShift(onLeft ? body.rexpr : body.lexpr);
  if (!shift || !readsColumn(onLeft ? body.lexpr : body.rexpr)) return false;
  // Below the clock (`col < clock`, `clock > col`) reaches every row when the clock moves far ahead.
  const below = (op.startsWith('<')) === onLeft;
  return below ? shift.seconds >= CLOCK_REACH_SECONDS : shift.seconds <= -CLOCK_REACH_SECONDS;
}

/** Functions that build a tsquery from text, and whether they read `!` and `-` in it as negations. */
const tsqueryBuilders: Readonly<Record<string, 'operators' | 'websearch' | 'words'>> = lookupTable({ to_tsquery: 'operators', websearch_to_tsquery: 'websearch', plainto_tsquery: 'words', phraseto_tsquery: 'words' });

/** A constant full-text query with a word and no negation (`to_tsquery('english', 'spam')`, `'spam'::tsquery`). */
function positiveTsquery(expr: unknown): boolean {
  const e = expr as Node | undefined;
  const call = e?.FuncCall as Node | undefined;
  let kind: 'operators' | 'websearch' | 'words' = 'operators';
  let text: string | undefined;
  if (call) {
    const name = funcName(call);
    const builder = tsqueryBuilders[name[name.length - 1] ?? ''];
    if (!builder || (name.length === 2 && name[0] !== 'pg_catalog') || name.length > 2) return false;
    const args = (call.args ?? []) as unknown[];
    if (args.length < 1 || args.length > 2 || (args.length === 2 && constantText(args[0]) === undefined)) return false;
    kind = builder;
    text = constantText(args[args.length - 1]);
  } else if (e?.TypeCast) {
    // Only a tsquery: `data @@ 'true'::jsonpath` is a JSON path predicate every row may meet.
    const names = ((((e.TypeCast as Node).typeName as Node | undefined)?.names ?? []) as Array<{ String?: { sval?: string } }>).map((x) => x.String?.sval ?? '');
    if (names[names.length - 1] !== 'tsquery') return false;
    text = constantText(e);
  }
  if (text === undefined || !/[\p{L}\p{N}]/u.test(text)) return false;
  if (kind === 'words') return true;
  return !text.includes('!') && (kind !== 'websearch' || !/(^|[\s("])-/.test(text)) && !/\bnot\b/i.test(text);
}

/** An expression that reads a column (a tsvector column, or `to_tsvector(body)`). */
const readsColumn = (e: unknown): boolean => (columnsOf(e)?.size ?? 0) > 0;

/** An ARRAY of constant texts, maybe cast (`ARRAY['a%', 'b%']::text[]`). */
function constantList(expr: unknown): boolean {
  const e = expr as Node | undefined;
  if (e?.TypeCast) return constantList((e.TypeCast as Node).arg);
  const items = ((e?.A_ArrayExpr as Node | undefined)?.elements ?? []) as unknown[];
  return items.length > 0 && items.every((i) => constantText(i) !== undefined);
}

/** A constant a containment needs something of: a JSON object or array with a member, an ARRAY of values. */
function namesSomething(expr: unknown): boolean {
  const items = (((expr as Node | undefined)?.A_ArrayExpr as Node | undefined)?.elements ?? []) as unknown[];
  if (items.length > 0) return items.every(isValue);
  const text = constantText(expr)?.trim();
  if (text === undefined) return false;
  try {
    const v = JSON.parse(text) as unknown;
    return (Array.isArray(v) ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : 0) > 0 && !/[[{]\s*[\]}]/.test(text);
  } catch {
    return false; // a PostgreSQL array literal (`'{}'`, `'{x}'`) or other text: not judged here
  }
}

/**
 * True when PostgreSQL's reading proves a DELETE/UPDATE's WHERE narrow without a sample run, the
 * verdict that stands where SQLite cannot run the statement (PostgreSQL's own functions, operators
 * and casts). Only forms whose reach the data decides, never the expression: plainlyNarrow, a
 * column equal to (or `= ANY`, `IN`, `IS NOT DISTINCT FROM`) one value for every row, a column
 * against the clock (`expires_at < now() - interval '30 days'`), a boolean column alone, or an AND
 * with one of these. Anything else (`starts_with(email, '')`, `email ^@ ''`, `strpos(email, '') >
 * 0`, `greatest(id, 0) >= 0`, `LIKE chr(37)`, `id::bool`, an OR, a NOT, a range against a value)
 * may hold for every row and is not proven (twenty-first pass, follow-up).
 */
function provenNarrow(expr: unknown): boolean {
  const [type, body] = (Object.entries((expr ?? {}) as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return false;
  if (plainlyNarrow(expr)) return true;
  if (type === 'BoolExpr') return body.boolop === 'AND_EXPR' && ((body.args ?? []) as unknown[]).some(provenNarrow);
  if (type === 'ColumnRef') return true;
  // A prefix (`starts_with(email, 'adm')`) or a containment (`data @> '{"a": 1}'`, `tags @> ARRAY['x']`)
  // of a constant that names something: an empty one (`''`, `'{}'`, `ARRAY[]`) holds for every row.
  if (type === 'FuncCall') {
    const args = (body.args ?? []) as unknown[];
    return funcName(body).pop() === 'starts_with' && args.length === 2 && isColumn(args[0]) && !!constantText(args[1]);
  }
  if (type !== 'A_Expr') return false;
  const op = opName(body);
  if (body.kind === 'AEXPR_OP' && op === '^@') return isColumn(body.lexpr) && !!constantText(body.rexpr);
  // A full-text match of a constant query that negates nothing (`to_tsvector(body) @@
  // to_tsquery('spam')`) names the rows holding its words (twenty-second pass: a false hold);
  // `!spam`, websearch's `-spam` match every other row.
  if (body.kind === 'AEXPR_OP' && op === '@@') return (positiveTsquery(body.rexpr) && readsColumn(body.lexpr)) || (positiveTsquery(body.lexpr) && readsColumn(body.rexpr));
  if (body.kind === 'AEXPR_OP' && op === '@>') return isColumn(body.lexpr) && namesSomething(body.rexpr);
  // A column matched against a list of constant patterns (`LIKE ANY (ARRAY['a%', 'b%'])`): tautological() tried each.
  if (body.kind === 'AEXPR_OP_ANY' && ['~~', '~~*', '~', '~*'].includes(op)) return isColumn(body.lexpr) && constantList(body.rexpr);
  // A JSON member by a constant key or path (`data->>'k'`, `data->'a'->>'b'`, `data #>> '{a,b}'`),
  // maybe cast to a type that keeps values apart (`(data->>'id')::int`), is a column for an
  // equality: it names one value too (twenty-second pass, follow-up: the cast was held critical).
  const keyed = (e: unknown, depth = 0): boolean => {
    const n = e as Node | undefined;
    const cast = n?.TypeCast as Node | undefined;
    if (cast) {
      const names = (((cast.typeName as Node | undefined)?.names ?? []) as Array<{ String?: { sval?: string } }>).map((x) => x.String?.sval ?? '');
      return depth < 8 && !collapsingTypes.has(names[names.length - 1] ?? '') && keyed(cast.arg, depth + 1);
    }
    const x = n?.A_Expr as Node | undefined;
    return x?.kind === 'AEXPR_OP' && ['->>', '->', '#>>', '#>'].includes(opName(x)) && (isColumn(x.lexpr) || (depth < 8 && keyed(x.lexpr, depth + 1))) && (x.rexpr as Node | undefined)?.A_Const !== undefined;
  };
  if (body.kind === 'AEXPR_OP' && op === '=' && (keyed(body.lexpr) || keyed(body.rexpr))) return fixedValue(keyed(body.lexpr) ? body.rexpr : body.lexpr);
  const [col, other] = isColumn(body.lexpr) ? [body.lexpr, body.rexpr] : [body.rexpr, body.lexpr];
  if (!isColumn(col)) return false;
  const list = ((other as Node | undefined)?.List as Node | undefined)?.items;
  if (body.kind === 'AEXPR_IN' && op === '=') return col === body.lexpr && Array.isArray(list) && list.length > 0 && list.every(fixedValue);
  if ((body.kind === 'AEXPR_OP_ANY' && op === '=') || body.kind === 'AEXPR_NOT_DISTINCT') return col === body.lexpr && fixedValue(other);
  if (body.kind !== 'AEXPR_OP') return false;
  if (op === '=') return fixedValue(other);
  return ['<', '<=', '>', '>='].includes(op) && clockShift(other) !== undefined && !clockReachesAll(body);
}

/**
 * A column name that says it holds a number, a date or a truth value (`id`, `user_id`, `userId`,
 * `age`, `created_at`, `is_admin`): MySQL compares it with a number as the number or date it
 * holds. Any other name may hold text, which MySQL reads as 0 beside a number.
 */
export function numberLikeName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const last = words[words.length - 1] ?? '';
  if (words[0] === 'is' || words[0] === 'has' || words[0] === 'airlock') return words.length > 1;
  return numberWords.has(last) || /^(?:id|num|count|qty|amount|price|total|size|score|level|rank|year|month|day|hour|minute|second|epoch|timestamp|date|time)s?\d*$/.test(last);
}
const numberWords = new Set([
  'id', 'ids', 'pk', 'fk', 'no', 'nr', 'num', 'number', 'count', 'cnt', 'qty', 'quantity', 'amount', 'price', 'cost', 'total', 'sum', 'balance', 'age',
  'year', 'years', 'month', 'months', 'week', 'weeks', 'day', 'days', 'hour', 'hours', 'minute', 'minutes', 'second', 'seconds', 'ms', 'secs', 'mins',
  'size', 'bytes', 'length', 'len', 'width', 'height', 'weight', 'depth', 'score', 'rank', 'level', 'version', 'seq', 'sequence', 'position', 'pos',
  'index', 'idx', 'port', 'pid', 'uid', 'gid', 'duration', 'ttl', 'epoch', 'ts', 'timestamp', 'time', 'at', 'on', 'date', 'datetime', 'until', 'expires',
  'expiry', 'expiration', 'created', 'updated', 'deleted', 'modified', 'login', 'seen', 'priority', 'limit', 'max', 'min', 'percent', 'pct', 'rate',
  'ratio', 'lat', 'lng', 'lon', 'latitude', 'longitude', 'attempts', 'retries', 'tries', 'views', 'votes', 'likes', 'points', 'credits', 'stock',
  'quota', 'flag', 'active', 'enabled', 'disabled', 'archived', 'verified', 'visible', 'hidden', 'rowid', 'oid',
]);

/**
 * Whether MySQL may compare a column that can hold text with a number in `expr` (`u.email = 0`,
 * `email IN (0, 5)`): it reads text that starts with no digit as 0 there, so the equality holds
 * for every such row (twenty-third pass). Only a string constant or a bound value keeps the
 * comparison textual; a column whose name says it holds a number or date is compared as one.
 */
function mysqlNumericText(expr: unknown, depth = 0): boolean {
  if (depth > 64 || expr === null || typeof expr !== 'object') return depth > 64;
  if (Array.isArray(expr)) return expr.some((e) => mysqlNumericText(e, depth + 1));
  const x = (expr as Node).A_Expr as Node | undefined;
  if (x && ['AEXPR_OP', 'AEXPR_IN', 'AEXPR_NOT_DISTINCT', 'AEXPR_OP_ANY'].includes(String(x.kind))) {
    const textual = (e: unknown): boolean => {
      const n = e as Node | undefined;
      const c = n?.A_Const as Node | undefined;
      if (c) return c.sval !== undefined || c.isnull === true;
      if (n?.ParamRef !== undefined) return true;
      const items = (n?.List as Node | undefined)?.items;
      return Array.isArray(items) && items.every(textual);
    };
    const textColumn = (e: unknown): boolean => {
      const fields = (((e as Node | undefined)?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string } }>;
      const last = fields[fields.length - 1]?.String?.sval;
      return last !== undefined && !numberLikeName(last);
    };
    if ((textColumn(x.lexpr) && !textual(x.rexpr)) || (textColumn(x.rexpr) && !textual(x.lexpr))) return true;
  }
  return Object.values(expr as Node).some((v) => mysqlNumericText(v, depth + 1));
}

/** The magnitude of int8's bounds (9223372036854775807), as a double: no integer a column holds is past it. */
const INT8_BOUND = 2 ** 63 - 1;

/** A comparison read from the other side (`5 > id` is `id < 5`). */
const mirrored: Readonly<Record<string, string>> = lookupTable({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' });

/**
 * Whose reading of numbers a DELETE's or UPDATE's WHERE is judged by (set around each judgement):
 * PostgreSQL's (and SQLite's, the same for what is read here) always, MySQL's too where the
 * endpoint's dialect is unknown: `~0` is 18446744073709551615 there (-1 in PostgreSQL and
 * SQLite), `-1 >> 1` 9223372036854775807, `^` is XOR and `CAST(-1 AS UNSIGNED)` 2^64 - 1.
 */
type NumberReading = 'pg' | 'mysql';
let numberReadings: readonly NumberReading[] = ['pg'];
/** Where the server may read a number alone as a condition (MySQL, SQLite): true where it is not 0. */
let numbersAreConditions = false;

/** A number literal as PostgreSQL 16 and MySQL write one: `5`, `1e30`, `0x7FFF…`, `0o17`, `0b101`, `9_223_372…`. */
function literalNumber(raw: string): number | undefined {
  const s = raw.trim().replace(/(?<=[0-9a-f])_(?=[0-9a-f])/gi, '');
  const based = /^([+-]?)0([xob])([0-9a-f]+)$/i.exec(s);
  if (based) {
    try {
      const v = Number(BigInt(`0${based[2]!.toLowerCase()}${based[3]}`));
      return based[1] === '-' ? -v : v;
    } catch {
      return undefined;
    }
  }
  return /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : undefined;
}

const asBig = (v: number): bigint | undefined => (Number.isInteger(v) ? BigInt(v) : undefined);
/** An integer operation as the reading's server does it: int8 (two's complement) in PostgreSQL, BIGINT UNSIGNED in MySQL. */
function bitwise(r: NumberReading, a: number, b: number, op: (x: bigint, y: bigint) => bigint): number | undefined {
  const x = asBig(a);
  const y = asBig(b);
  if (x === undefined || y === undefined) return undefined;
  const wrap = (v: bigint): bigint => (r === 'mysql' ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v));
  return Number(wrap(op(wrap(x), y)));
}

/**
 * A constant expression's value in one server's reading (`5`, `1e30`, `'1e30'`, cast or not, and
 * arithmetic over constants: `9223372036854775807 - 1`, `power(2, 64)`, `1 << 63`, `~0`, `0x7FFF…`;
 * twenty-fourth pass: only literals were read, so a bound computed past every integer stood
 * narrow); undefined otherwise. Bounded in depth (each level at most two operands).
 */
function numberReading(e: unknown, r: NumberReading, depth = 0): number | undefined {
  if (depth > 8) return undefined;
  const n = e as Node | undefined;
  if (n?.SubLink) return numberReading(constantSubquery(n), r, depth + 1);
  const cast = n?.TypeCast as Node | undefined;
  if (cast) {
    const v = numberReading(cast.arg, r, depth + 1);
    const type = stringItems({ List: { items: ((cast.typeName as Node | undefined)?.names ?? []) as unknown[] } }).pop();
    return r === 'mysql' && v !== undefined && v < 0 && type?.toLowerCase() === 'unsigned' ? v + 2 ** 64 : v;
  }
  const c = n?.A_Const as Node | undefined;
  if (c) {
    const raw = c.ival !== undefined ? String((c.ival as Node).ival ?? 0) : c.fval !== undefined ? String((c.fval as Node).fval ?? '') : constantText(e);
    return raw === undefined ? undefined : literalNumber(raw);
  }
  const call = n?.FuncCall as Node | undefined;
  if (call) {
    const name = funcName(call).pop()?.toLowerCase();
    const args = ((call.args ?? []) as unknown[]).map((a) => numberReading(a, r, depth + 1));
    if ((name === 'power' || name === 'pow') && args.length === 2 && args[0] !== undefined && args[1] !== undefined) return args[0] ** args[1];
    if (name === 'abs' && args.length === 1 && args[0] !== undefined) return Math.abs(args[0]);
    return undefined;
  }
  const x = n?.A_Expr as Node | undefined;
  if (!x || x.kind !== 'AEXPR_OP') return undefined;
  const op = opName(x);
  const b = numberReading(x.rexpr, r, depth + 1);
  if (b === undefined) return undefined;
  if (x.lexpr === undefined) {
    if (op === '-') return -b;
    if (op === '+') return b;
    if (op === '~') return bitwise(r, b, 0, (v) => ~v);
    return undefined;
  }
  const a = numberReading(x.lexpr, r, depth + 1);
  if (a === undefined) return undefined;
  const shift = (f: (v: bigint, k: bigint) => bigint) => (b >= 0 && b < 64 ? bitwise(r, a, b, f) : undefined);
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? undefined : a / b;
    case '^': return r === 'pg' ? a ** b : bitwise(r, a, b, (v, w) => v ^ w);
    case '#': return r === 'pg' ? bitwise(r, a, b, (v, w) => v ^ w) : undefined;
    case '|': return bitwise(r, a, b, (v, w) => v | w);
    case '&': return bitwise(r, a, b, (v, w) => v & w);
    case '<<': return shift((v, k) => v << k);
    case '>>': return shift((v, k) => v >> k);
    default: return undefined;
  }
}

/** The value of a constant expression in each reading the server may make (none when it is no constant). */
function numericReadings(e: unknown): number[] {
  return numberReadings.map((r) => numberReading(e, r)).filter((v): v is number => v !== undefined && !Number.isNaN(v));
}

/**
 * A range of a column against a number at or past int8's bounds on the side that takes them
 * all: `id < 1e30`, `id <= 9223372036854775807`, `1e19 > id` (twenty-third pass: upper bounds
 * were narrow, as SQLite's text samples sort above every number, while every integer a column
 * holds is below them; lower bounds past every sample were already every row).
 */
function pastEveryInteger(op: string, left: unknown, right: unknown): boolean {
  const [col, values, flipped] = isColumn(left) ? [left, numericReadings(right), false] : [right, numericReadings(left), true];
  if (!isColumn(col)) return false;
  const o = flipped ? mirrored[op] ?? op : op;
  // A key (`id`, `user_id`) counts from 1 (serial, identity, AUTO_INCREMENT, SQLite's rowid): `id >
  // 0` is every row (twenty-fourth pass; MySQL's known way past safe-updates mode).
  const key = keyName(columnName(col) ?? '');
  return values.some((value) => ((o === '<' || o === '<=') && value >= INT8_BOUND) || ((o === '>' || o === '>=') && value <= -INT8_BOUND)
    || (key && ((o === '>' && value < 1) || (o === '>=' && value <= 1))));
}

/** A column's last name, as written (`u.id` is `id`), cast or collated; undefined for anything else. */
function columnName(e: unknown): string | undefined {
  if (!isColumn(e)) return undefined;
  let n = e as Node | undefined;
  for (let i = 0; i < 8 && n && n.ColumnRef === undefined; i++) n = ((n.TypeCast ?? n.CollateClause) as Node | undefined)?.arg as Node | undefined;
  const fields = ((n?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string } }>;
  return fields[fields.length - 1]?.String?.sval;
}

/**
 * The target table itself in a FROM, or every row of it under another name (MySQL's `(SELECT
 * max(id) FROM (SELECT id FROM users) t)`, which it runs where a DELETE may not read its own table
 * directly): what each of its column names is in the target table, or undefined when it is not that.
 */
function wholeTable(item: unknown, target: string, depth = 0): ((name: string) => string | undefined) | undefined {
  const n = item as Node | undefined;
  const range = n?.RangeVar as Node | undefined;
  // A CTE of the statement's WITH read as the subquery it names (`WITH m AS (SELECT max(id) AS x
  // FROM users) DELETE … WHERE id <= (SELECT x FROM m)`; twenty-fifth pass), before a table of that name.
  const cte = range && range.schemaname === undefined && depth < 8 ? judgedCtes.get(String(range.relname)) : undefined;
  if (cte) return wholeTable({ RangeSubselect: { subquery: cte } }, target, depth + 1);
  if (range?.relname === target) return (name) => name;
  const select = (((n?.RangeSubselect as Node | undefined)?.subquery as Node | undefined)?.SelectStmt) as Node | undefined;
  if (depth > 8 || !select || select.op !== 'SETOP_NONE' || limited(select) || select.groupClause || select.havingClause || select.whereClause) return undefined;
  const from = (select.fromClause ?? []) as Node[];
  const inner = from.length === 1 ? wholeTable(from[0], target, depth + 1) : undefined;
  if (!inner) return undefined;
  const targets = (select.targetList ?? []) as Array<{ ResTarget?: { name?: string; val?: Node } }>;
  return (name) => {
    for (const t of targets) {
      const fields = ((t.ResTarget?.val?.ColumnRef as Node | undefined)?.fields ?? []) as Array<{ String?: { sval?: string }; A_Star?: unknown }>;
      const last = fields[fields.length - 1];
      if (last?.A_Star !== undefined) return inner(name);
      const own = last?.String?.sval;
      if (own !== undefined && (t.ResTarget?.name ?? own) === name) return inner(own);
    }
    return undefined;
  };
}

/**
 * Whether `e` is the target table's own largest (`max`) or smallest (`min`) value of `column`, or
 * past it by a constant: `(SELECT max(id) FROM users)`, `(SELECT max(id) + 1 FROM users)`,
 * `(SELECT COALESCE(MAX(id), 0) + 1 FROM users)`, `(SELECT min(id) FROM users) - 5`.
 * `inside`: within the subquery's select list, what its column names are in the target table.
 */
function ownExtreme(e: unknown, column: string, target: string, inside: ((name: string) => string | undefined) | undefined, depth = 0): 'max' | 'min' | undefined {
  if (depth > 8) return undefined;
  const n = e as Node | undefined;
  if (n?.TypeCast) return ownExtreme((n.TypeCast as Node).arg, column, target, inside, depth + 1);
  const link = n?.SubLink as Node | undefined;
  if (link) {
    const select = (link.subselect as Node | undefined)?.SelectStmt as Node | undefined;
    if (link.subLinkType !== 'EXPR_SUBLINK' || !select || select.op !== 'SETOP_NONE' || limited(select) || select.groupClause || select.havingClause) return undefined;
    const from = (select.fromClause ?? []) as Node[];
    const table = from.length === 1 ? wholeTable(from[0], target) : undefined;
    if (!table || (select.whereClause !== undefined && !tautological(select.whereClause, target))) return undefined;
    const targets = (select.targetList ?? []) as Array<{ ResTarget?: { val?: unknown } }>;
    return targets.length === 1 ? ownExtreme(targets[0]!.ResTarget?.val, column, target, table, depth + 1) : undefined;
  }
  const call = n?.FuncCall as Node | undefined;
  const coalesce = n?.CoalesceExpr as Node | undefined;
  if (call || coalesce) {
    const name = coalesce ? 'coalesce' : funcName(call!).pop()?.toLowerCase() ?? '';
    const args = ((coalesce ?? call)!.args ?? []) as unknown[];
    if (inside && (name === 'max' || name === 'min') && args.length === 1 && inside(columnName(args[0]) ?? '') === column) return name;
    // Null only over no rows; greatest/least are at least/most each argument.
    if (name === 'coalesce' || name === 'ifnull') return args.length > 0 ? ownExtreme(args[0], column, target, inside, depth + 1) : undefined;
    if (name === 'greatest' || name === 'least') {
      const found = args.map((a) => ownExtreme(a, column, target, inside, depth + 1));
      const want = name === 'greatest' ? 'max' : 'min';
      return found.includes(want) ? want : undefined;
    }
    return undefined;
  }
  const x = n?.A_Expr as Node | undefined;
  if (!x || x.kind !== 'AEXPR_OP' || x.lexpr === undefined) return undefined;
  const op = opName(x);
  if (op !== '+' && op !== '-') return undefined;
  const widened = (ext: 'max' | 'min' | undefined, k: number | undefined): 'max' | 'min' | undefined =>
    ext !== undefined && k !== undefined && (ext === 'max' ? k >= 0 : k <= 0) ? ext : undefined;
  // A number, or an interval written without a sign (`interval '1 day'`: later, for a date).
  const constant = (a: unknown): number | undefined => {
    const cast = (a as Node | undefined)?.TypeCast as Node | undefined;
    const type = cast ? stringItems({ List: { items: ((cast.typeName as Node | undefined)?.names ?? []) as unknown[] } }).pop() : undefined;
    const text = type === 'interval' ? constantText(cast!.arg) : undefined;
    return text !== undefined && /^[\s\d.a-z]+$/i.test(text) ? 1 : numericReadings(a)[0];
  };
  const right = constant(x.rexpr);
  const left = ownExtreme(x.lexpr, column, target, inside, depth + 1);
  if (left !== undefined) return widened(left, right === undefined ? undefined : op === '+' ? right : -right);
  return op === '+' ? widened(ownExtreme(x.rexpr, column, target, inside, depth + 1), constant(x.lexpr)) : undefined;
}

/**
 * A range of a column against its own table's extreme on the side that takes every row: `id <
 * (SELECT max(id) + 1 FROM users)`, `id >= (SELECT min(id) FROM users) - 1` (twenty-fourth pass:
 * the sample run's text samples sort above every number, so a bound past the largest number
 * stood narrow on every dialect, while a real table's rows are all below it).
 */
function pastOwnExtreme(op: string, left: unknown, right: unknown, target: string | undefined): boolean {
  if (target === undefined) return false;
  const [col, bound, flipped] = isColumn(left) ? [left, right, false] : [right, left, true];
  const column = columnName(col);
  if (column === undefined) return false;
  const o = flipped ? mirrored[op] ?? op : op;
  const ext = ownExtreme(bound, column, target, undefined);
  return ((o === '<' || o === '<=') && ext === 'max') || ((o === '>' || o === '>=') && ext === 'min');
}

/**
 * Tables a column's values may make, for judging a bound computed from the table's own aggregates
 * (ownBoundReachesAll): a key's (`id`, `user_id`: counting from 1, maybe repeated, one far above
 * the rest; two rows at least: a table of one row spared by `id < (SELECT sum(id) …)` is no concern) and, for any other column, negative, zero and fractional values too.
 */
const keyTables: readonly (readonly number[])[] = [[1, 2, 3, 4, 5, 6], [1, 1000, 1e9], [1, 1, 1, 1, 1, 1000], [2 ** 31 - 1, 5], [3, 3]];
const anyTables: readonly (readonly number[])[] = [...keyTables, [0], [-5, -1], [-1e9, 7], [0.5, 2.5], [-3, 0, 3], [-1000, -1, -1, -1, -1, -1]];
const aggregates = new Set(['max', 'min', 'sum', 'avg', 'count', 'total']);

/**
 * A bound's value over one table of values of `column` (`data`): constants, arithmetic, `abs`,
 * `power`, `greatest`/`least`, `coalesce`, and scalar subqueries over the target table itself
 * (every row of it: wholeTable, a WHERE that holds for every row) whose one output is an
 * aggregate (`max`, `min`, `sum`, `avg`, `count`) of arithmetic over the column, or arithmetic over
 * such aggregates. `seen.aggregate` is set when one was read. Undefined for anything else.
 */
function boundOver(e: unknown, column: string, target: string, data: readonly number[], seen: { aggregate: boolean }, scope: { inside?: (name: string) => string | undefined; row?: number } = {}, depth = 0): number | undefined {
  if (depth > 12) return undefined;
  const n = e as Node | undefined;
  if (n?.TypeCast) return boundOver((n.TypeCast as Node).arg, column, target, data, seen, scope, depth + 1);
  if (n?.A_Const) return numberReading(n, 'pg');
  const ref = n?.ColumnRef as Node | undefined;
  if (ref) return scope.row !== undefined && scope.inside?.(columnName(n) ?? '') === column ? scope.row : undefined;
  const link = n?.SubLink as Node | undefined;
  if (link) {
    const constant = constantSubquery(n);
    if (constant !== undefined) return boundOver(constant, column, target, data, seen, scope, depth + 1);
    if (scope.inside) return undefined; // a subquery inside the subquery: not read
    const select = (link.subselect as Node | undefined)?.SelectStmt as Node | undefined;
    // An aggregate's one row is kept by any LIMIT of a row or more (`(SELECT max(id) * 2 FROM users LIMIT 1)`).
    const keepsOne = select !== undefined && select.limitOffset === undefined && (numberReading(select.limitCount, 'pg') ?? 0) >= 1;
    if (link.subLinkType !== 'EXPR_SUBLINK' || !select || select.op !== 'SETOP_NONE' || (limited(select) && !keepsOne) || select.groupClause || select.havingClause) return undefined;
    const from = (select.fromClause ?? []) as Node[];
    const targets = (select.targetList ?? []) as Array<{ ResTarget?: { val?: unknown; name?: string } }>;
    // The key's own sequence (`users_id_seq`, as serial and identity columns name it): its
    // `last_value` is at least every key it gave (`id <= (SELECT last_value FROM users_id_seq)`).
    const seq = from.length === 1 ? (from[0]!.RangeVar as Node | undefined) : undefined;
    if (seq && String(seq.relname).toLowerCase() === `${target}_${column}_seq`.toLowerCase() && targets.length === 1 && select.whereClause === undefined && data.length > 0) {
      seen.aggregate = true;
      return boundOver(targets[0]!.ResTarget?.val, 'last_value', target, [Math.max(...data)], seen, { inside: (name) => name, row: Math.max(...data) }, depth + 1);
    }
    // `(SELECT x FROM m)` where m (a CTE, or a subquery in FROM) is `SELECT max(id) * 2 AS x FROM
    // users`: the aggregate's one row, read as `(SELECT max(id) * 2 FROM users)`.
    const range = from.length === 1 ? (from[0]!.RangeVar as Node | undefined) : undefined;
    const named = range && range.schemaname === undefined ? judgedCtes.get(String(range.relname)) : ((from[0]?.RangeSubselect as Node | undefined)?.subquery);
    const inner = (named as Node | undefined)?.SelectStmt as Node | undefined;
    const picked = targets.length === 1 && select.whereClause === undefined ? columnName(targets[0]!.ResTarget?.val) : undefined;
    if (inner && picked !== undefined && !inner.groupClause) {
      const innerTargets = (inner.targetList ?? []) as Array<{ ResTarget?: { val?: unknown; name?: string } }>;
      const match = innerTargets.find((r) => (r.ResTarget?.name ?? columnName(r.ResTarget?.val)) === picked);
      if (match && innerTargets.length <= 64) return boundOver({ SubLink: { subLinkType: 'EXPR_SUBLINK', subselect: { SelectStmt: { ...inner, targetList: [match] } } } }, column, target, data, seen, scope, depth + 1);
    }
    const table = from.length === 1 ? wholeTable(from[0], target) : undefined;
    if (!table || (select.whereClause !== undefined && !tautological(select.whereClause, target))) return undefined;
    return targets.length === 1 ? boundOver(targets[0]!.ResTarget?.val, column, target, data, seen, { inside: table }, depth + 1) : undefined;
  }
  const coalesce = n?.CoalesceExpr as Node | undefined;
  const call = n?.FuncCall as Node | undefined;
  if (coalesce || call) {
    const name = coalesce ? 'coalesce' : funcName(call!).pop()?.toLowerCase() ?? '';
    const rawArgs = ((coalesce ?? call)!.args ?? []) as unknown[];
    if (aggregates.has(name) && call && (funcName(call).length === 1 || funcName(call)[0] === 'pg_catalog')) {
      // An aggregate over the subquery's rows (not nested in another, not filtered, not DISTINCT: `count(DISTINCT id)` may be fewer).
      if (!scope.inside || scope.row !== undefined || call.agg_filter || call.agg_distinct || call.over) return undefined;
      if (name === 'count' && call.agg_star) return (seen.aggregate = true), data.length;
      if (rawArgs.length !== 1) return undefined;
      const values: number[] = [];
      for (const v of data) {
        const x = boundOver(rawArgs[0], column, target, data, seen, { inside: scope.inside, row: v }, depth + 1);
        if (x === undefined) return undefined;
        values.push(x);
      }
      seen.aggregate = true;
      if (name === 'count') return values.length;
      if (name === 'max') return Math.max(...values);
      if (name === 'min') return Math.min(...values);
      const sum = values.reduce((a, b) => a + b, 0);
      return name === 'avg' ? sum / values.length : sum;
    }
    const args = rawArgs.map((a) => boundOver(a, column, target, data, seen, scope, depth + 1));
    if (args.length === 0 || args.some((a) => a === undefined)) return undefined;
    const vals = args as number[];
    if (name === 'coalesce' || name === 'ifnull' || name === 'nvl') return vals[0];
    if (name === 'greatest') return Math.max(...vals);
    if (name === 'least') return Math.min(...vals);
    if (name === 'abs' && vals.length === 1) return Math.abs(vals[0]!);
    if ((name === 'power' || name === 'pow') && vals.length === 2) return vals[0]! ** vals[1]!;
    return undefined;
  }
  const x = n?.A_Expr as Node | undefined;
  if (!x || x.kind !== 'AEXPR_OP') return undefined;
  const op = opName(x);
  const b = boundOver(x.rexpr, column, target, data, seen, scope, depth + 1);
  if (b === undefined) return undefined;
  if (x.lexpr === undefined) return op === '-' ? -b : op === '+' ? b : undefined;
  const a = boundOver(x.lexpr, column, target, data, seen, scope, depth + 1);
  if (a === undefined) return undefined;
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? undefined : a / b;
    case '^': return a ** b;
    default: return undefined;
  }
}

/** Whether `v op bound` holds. */
function compares(v: number, op: string, bound: number): boolean {
  return op === '<' ? v < bound : op === '<=' ? v <= bound : op === '>' ? v > bound : op === '>=' ? v >= bound : false;
}

/**
 * A column against a bound computed from its own table's aggregates that holds for each row of
 * every table `keyTables`/`anyTables` holds: `id < (SELECT max(id) * 2 FROM users)`, `id <=
 * (SELECT sum(id) FROM users)`, `id < (SELECT max(id) FROM users) + (SELECT count(*) FROM users)`,
 * `BETWEEN (SELECT min(id) …) AND (SELECT max(id) …)` (twenty-fifth pass, left open by the
 * twenty-fourth: only `max`/`min` plus or minus a constant were read, and SQLite's sample run
 * takes `max(id)` of its text samples). A bound no aggregate computes is judged elsewhere.
 */
function ownBoundReachesAll(check: (column: string, data: readonly number[], seen: { aggregate: boolean }) => boolean | undefined, column: string | undefined): boolean {
  if (column === undefined) return false;
  const seen = { aggregate: false };
  for (const data of keyName(column) ? keyTables : anyTables) {
    if (check(column, data, seen) !== true) return false;
  }
  return seen.aggregate;
}

function pastOwnBound(op: string, left: unknown, right: unknown, target: string | undefined): boolean {
  if (target === undefined) return false;
  const [col, bound, flipped] = isColumn(left) ? [left, right, false] : [right, left, true];
  const o = flipped ? mirrored[op] ?? op : op;
  return ownBoundReachesAll((column, data, seen) => {
    const b = boundOver(bound, column, target, data, seen);
    return b !== undefined && data.every((v) => compares(v, o, b));
  }, columnName(col));
}

function betweenOwnBounds(body: Node, target: string | undefined): boolean {
  if (target === undefined || body.kind !== 'AEXPR_BETWEEN' && body.kind !== 'AEXPR_BETWEEN_SYM') return false;
  const [lo, hi] = (((body.rexpr as Node | undefined)?.List as Node | undefined)?.items ?? []) as unknown[];
  return ownBoundReachesAll((column, data, seen) => {
    const l = boundOver(lo, column, target, data, seen);
    const h = boundOver(hi, column, target, data, seen);
    if (l === undefined || h === undefined) return false;
    const [a, b] = body.kind === 'AEXPR_BETWEEN_SYM' ? [Math.min(l, h), Math.max(l, h)] : [l, h];
    return data.every((v) => v >= a && v <= b);
  }, columnName(body.lexpr));
}

/**
 * A row comparison (`(org_id, user_id) > (0, 0)`, `ROW(a, b) >= ROW(1, 1)`) holds for every row
 * when its first members' comparison does, strictly, or holds as `>=`/`<=` and the rest's does:
 * PostgreSQL, MySQL and SQLite compare rows member by member (twenty-fifth pass: a composite key
 * bounded so was a narrow write, each member's twin was held).
 */
function rowComparisonHolds(op: string, left: unknown, right: unknown, target: string | undefined): boolean {
  const ls = (((left as Node | undefined)?.RowExpr as Node | undefined)?.args ?? undefined) as unknown[] | undefined;
  const rs = (((right as Node | undefined)?.RowExpr as Node | undefined)?.args ?? undefined) as unknown[] | undefined;
  if (!ls || !rs || ls.length !== rs.length || ls.length === 0 || ls.length > 32) return false;
  const strict = op === '<' || op === '<=' ? '<' : '>';
  const loose = `${strict}=`;
  const holds = (o: string, k: number): boolean => tautological({ A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: o } }], lexpr: ls[k], rexpr: rs[k] } }, target);
  for (let k = 0; k < ls.length; k++) {
    if (k === ls.length - 1) return holds(op, k);
    if (holds(strict, k)) return true;
    if (!holds(loose, k)) return false;
  }
  return false;
}

/** The year of a date or timestamp written as ISO's `YYYY-MM-DD[ time]`, maybe `BC` (PostgreSQL's input); undefined for other text. */
function dateYear(text: string | undefined): number | undefined {
  if (text === undefined || text.length > 64) return undefined;
  const m = /^\s*(\d{1,7})-(\d{1,2})-(\d{1,2})(?:[ T]|$)/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  return /\sBC\s*$/i.test(text) ? 1 - year : year;
}

/**
 * The least (or greatest) UUID as a bound: `uuid > '00000000-0000-0000-0000-000000000000'` spares
 * only the nil UUID, `<= 'ffffffff-…'` none (twenty-fifth pass: a uuid key's lower bound was a narrow
 * write). Spelled as PostgreSQL's uuid input takes it: braces, dashes anywhere, any letter case.
 */
/**
 * A bound below or above every UUID written as text, in any length (twenty-seventh pass: only the
 * whole nil and max UUIDs were read, so `uuid > '0'` on D1 or a MySQL `CHAR(36)` column was a
 * narrow write): a run of zeros (dashes allowed) is at or below every UUID's text but
 * those beginning with eight zeros, a text whose first letter sorts past `f` and `F` is above every one.
 * A run of eight or more zeros, or with a dash, is a UUID's piece whatever the column; a shorter
 * run or a letter bound only against a column named for UUIDs (`uuid`, `user_uuid`, `guid`).
 */
function uuidTextEdge(text: string | undefined, side: unknown): 'least' | 'greatest' | undefined {
  if (text === undefined || text.length === 0 || text.length > 38) return undefined;
  const named = /(uuid|guid)$/i.test(columnName(side) ?? '');
  if (/^0[0-]*$/.test(text) && (named || text.includes('-') || text.length >= 8)) return 'least';
  if (named && text.charCodeAt(0) > 0x66 && text.charCodeAt(0) < 0x7f) return 'greatest';
  return undefined;
}

function uuidExtreme(text: string | undefined): 'least' | 'greatest' | undefined {
  if (text === undefined) return undefined;
  const hex = text.trim().replace(/^\{([^{}]*)\}$/, '$1').replace(/-/g, '');
  return /^0{32}$/.test(hex) ? 'least' : /^f{32}$/i.test(hex) ? 'greatest' : undefined;
}

/**
 * Values a key column holds (serial, identity, AUTO_INCREMENT, rowid: counting from 1): each
 * residue of small moduli, round numbers and the numbers just below them, powers of two, and
 * large keys up to int8's largest (a plain bound below it names rows, as pastEveryInteger reads it).
 */
const keySamples: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99, 100, 101, 255, 256, 999, 1000, 1001, 9999, 65535, 65536, 99999, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 10 ** 12 - 1, 2 ** 53, INT8_BOUND];
/** A value while judging a condition over one key: a number, a truth value, NULL, or unknown (`U`: another column, a call not read). */
type KeyValue = number | boolean | null | 'U';
const U = 'U' as const;
const intCasts = new Set(['int', 'int2', 'int4', 'int8', 'integer', 'bigint', 'smallint', 'signed', 'unsigned', 'numeric', 'decimal', 'float4', 'float8', 'real', 'double', 'float']);

/**
 * A condition's value for one row whose key column `column` holds `v`, in reading `r` (PostgreSQL
 * divides integers whole, MySQL does not): comparisons, arithmetic, IN, BETWEEN, NULL tests,
 * boolean tests, three-valued AND/OR/NOT, and the numeric functions a key is bent through (`abs`,
 * `sign`, `mod`, `floor`, `ceil`, `round`, `trunc`, `greatest`, `least`, `coalesce`, `power`).
 * What it cannot read is `U`: an OR that holds whatever it is still holds.
 */
function keyEval(e: unknown, column: string, v: number | boolean, r: NumberReading, depth = 0): KeyValue {
  if (depth > 24) return U;
  const n = e as Node | undefined;
  const [type, body] = (Object.entries((n ?? {}) as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return U;
  const sub = (x: unknown): KeyValue => keyEval(x, column, v, r, depth + 1);
  const num = (x: KeyValue): number | null | 'U' => (typeof x === 'number' || x === null || x === U ? x : r === 'mysql' ? (x ? 1 : 0) : U);
  switch (type) {
    case 'ColumnRef': return columnName(n) === column ? v : U;
    case 'A_Const': {
      if (body.isnull === true) return null;
      if (body.boolval !== undefined) return (body.boolval as { boolval?: boolean }).boolval === true;
      return numberReading(n, 'pg') ?? U;
    }
    case 'TypeCast': {
      const inner = sub(body.arg);
      const names = (((body.typeName as Node | undefined)?.names ?? []) as Array<{ String?: { sval?: string } }>).map((x) => (x.String?.sval ?? '').toLowerCase());
      const to = names[names.length - 1] ?? '';
      if (collapsingTypes.has(to)) return typeof inner === 'number' ? inner !== 0 : inner;
      return intCasts.has(to) ? num(inner) : U;
    }
    case 'BoolExpr': {
      const args = ((body.args ?? []) as unknown[]).map(sub);
      const truth = args.map((a) => (typeof a === 'boolean' || a === null || a === U ? a : r === 'mysql' || numbersAreConditions ? a !== 0 : U));
      if (body.boolop === 'NOT_EXPR') return truth.length !== 1 ? U : typeof truth[0] === 'boolean' ? !truth[0] : truth[0]!;
      const decisive = body.boolop === 'OR_EXPR';
      if (truth.some((a) => a === decisive)) return decisive;
      if (truth.some((a) => a === U)) return U;
      return truth.some((a) => a === null) ? null : !decisive;
    }
    case 'NullTest': {
      const x = sub(body.arg);
      return x === U ? U : (x === null) === (body.nulltesttype === 'IS_NULL');
    }
    case 'BooleanTest': {
      const x = sub(body.arg);
      if (x === U || typeof x === 'number') return U;
      const test = String(body.booltesttype);
      if (test === 'IS_TRUE') return x === true;
      if (test === 'IS_NOT_TRUE') return x !== true;
      if (test === 'IS_FALSE') return x === false;
      if (test === 'IS_NOT_FALSE') return x !== false;
      if (test === 'IS_UNKNOWN') return x === null;
      return x !== null;
    }
    case 'CoalesceExpr': {
      for (const a of (body.args ?? []) as unknown[]) {
        const x = sub(a);
        if (x !== null) return x;
      }
      return null;
    }
    case 'FuncCall': {
      const parts = funcName(body);
      if (parts.length > 1 && parts[0] !== 'pg_catalog') return U;
      const name = (parts[parts.length - 1] ?? '').toLowerCase();
      const args = ((body.args ?? []) as unknown[]).map((a) => num(sub(a)));
      if (args.includes(U)) return U;
      const [a, b] = args as Array<number | null>;
      if (name === 'ifnull' || name === 'nvl') return args.length === 2 ? (a ?? b ?? null) : U;
      if (args.includes(null)) return ['greatest', 'least'].includes(name) ? U : null;
      const xs = args as number[];
      switch (name) {
        case 'abs': return xs.length === 1 ? Math.abs(a!) : U;
        case 'sign': return xs.length === 1 ? Math.sign(a!) : U;
        case 'floor': return xs.length === 1 ? Math.floor(a!) : U;
        case 'ceil': case 'ceiling': return xs.length === 1 ? Math.ceil(a!) : U;
        case 'round': case 'trunc': case 'truncate': return xs.length === 1 ? (name === 'round' ? Math.round(a!) : Math.trunc(a!)) : U;
        case 'mod': return xs.length === 2 && b !== 0 ? a! % b! : U;
        case 'power': case 'pow': return xs.length === 2 ? a! ** b! : U;
        case 'greatest': return xs.length > 0 ? Math.max(...xs) : U;
        case 'least': return xs.length > 0 ? Math.min(...xs) : U;
        default: return U;
      }
    }
    case 'A_Expr': {
      const op = opName(body);
      const kind = String(body.kind);
      if (kind === 'AEXPR_IN' || kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN') {
        const raw = sub(body.lexpr);
        const truth = typeof raw === 'boolean';
        const x = truth ? raw : num(raw);
        const items = ((((body.rexpr as Node | undefined)?.List as Node | undefined)?.items ?? []) as unknown[]).map((i) => {
          const item = sub(i);
          return truth && typeof item === 'boolean' ? item : num(item);
        });
        if (x === U || items.length === 0 || items.length > 100) return U;
        if (kind !== 'AEXPR_IN') {
          const [lo, hi] = items;
          if (lo === U || hi === U || lo === undefined || hi === undefined) return U;
          if (x === null || lo === null || hi === null) return null;
          if (typeof x !== 'number' || typeof lo !== 'number' || typeof hi !== 'number') return U;
          return (x >= lo && x <= hi) === (kind === 'AEXPR_BETWEEN');
        }
        if (x === null) return null;
        const found = items.some((i) => i === x);
        const rest = items.some((i) => i === U) ? U : items.some((i) => i === null) ? null : false;
        return op === '=' ? (found ? true : rest) : found ? false : rest === false ? true : rest;
      }
      if (kind !== 'AEXPR_OP') return U;
      const right = sub(body.rexpr);
      if (body.lexpr === undefined) {
        const x = num(right);
        return x === U || x === null ? x : op === '-' ? -x : op === '+' ? x : U;
      }
      const left = sub(body.lexpr);
      // Two truth values compare as PostgreSQL orders them (false < true).
      const both = typeof left === 'boolean' && typeof right === 'boolean';
      const x = both ? Number(left) : num(left);
      const y = both ? Number(right) : num(right);
      if (both && !['=', '<>', '!=', '<', '<=', '>', '>='].includes(op)) return U;
      if (x === U || y === U) return U;
      if (x === null || y === null) return null;
      switch (op) {
        case '=': return x === y;
        case '<>': case '!=': return x !== y;
        case '<': return x < y;
        case '<=': return x <= y;
        case '>': return x > y;
        case '>=': return x >= y;
        case '+': return x + y;
        case '-': return x - y;
        case '*': return x * y;
        case '/': return y === 0 ? U : r === 'pg' && Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y;
        case '%': return y === 0 ? U : x % y;
        default: return U;
      }
    }
    default: return U;
  }
}

/**
 * A condition over a key column (`id`, `user_id`) that holds for every value a key takes, by its
 * arithmetic rather than its shape: `mod(id, 1) = 0`, `id % 2 IN (0, 1)`, `id % 2 = 0 OR id % 2 =
 * 1`, `sign(id) = 1`, `abs(id) > 0`, `id * id > 0`, `id / id = 1`, `coalesce(id, 0) >= 0`, `(id >
 * 0) = true`, `NOT (id < 1 OR id IS NULL)` (twenty-fifth pass: each was a narrow write; SQLite's
 * sample rows hold negative, fractional and text values no key holds). Judged over keySamples with
 * every other column unknown, in each reading the endpoint may make.
 */
function keyConditionHolds(where: unknown): boolean {
  if (where === undefined) return false;
  const columns = columnsOf(where);
  if (!columns || columns.size > 8) return false;
  for (const column of columns) {
    // A column compared with TRUE and FALSE holds a truth value (PostgreSQL refuses either beside a
    // number): `active IN (true, false)`, `active >= false`, `active = true OR active = false` hold
    // for each, as `active IS NOT NULL` does.
    if ([true, false].every((v) => keyEval(where, column, v, 'pg') === true)) return true;
    if (!keyName(column)) continue;
    for (const r of numberReadings) {
      if (keySamples.every((v) => {
        const x = keyEval(where, column, v, r);
        return x === true || (numbersAreConditions && typeof x === 'number' && x !== 0);
      })) return true;
    }
  }
  return false;
}

const comparisonOps = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
/** A number or truth value, which no built-in `&&` of PostgreSQL takes: a numeric or boolean constant, a comparison, a test. */
function truthOrNumber(e: unknown): boolean {
  const n = e as Node | undefined;
  const c = n?.A_Const as Node | undefined;
  if (c) return c.ival !== undefined || c.fval !== undefined || c.boolval !== undefined;
  if (n?.BoolExpr !== undefined || n?.NullTest !== undefined || n?.BooleanTest !== undefined) return true;
  const x = n?.A_Expr as Node | undefined;
  if (!x) return false;
  return (x.kind === 'AEXPR_OP' && comparisonOps.has(opName(x))) || ['AEXPR_IN', 'AEXPR_LIKE', 'AEXPR_ILIKE', 'AEXPR_SIMILAR', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN', 'AEXPR_BETWEEN_SYM', 'AEXPR_NOT_BETWEEN_SYM'].includes(String(x.kind));
}

/** A LIMIT or OFFSET that may leave rows out (`LIMIT ALL`, `LIMIT NULL` leave none out). */
function limited(select: Node): boolean {
  const all = (v: unknown): boolean => v === undefined || ((v as Node).A_Const as Node | undefined)?.isnull === true;
  return !all(select.limitCount) || select.limitOffset !== undefined;
}

/**
 * `id IN (SELECT id FROM <the table itself> [WHERE <tautology>])`: every row's value is among the
 * table's own values, so it touches every row; so does an EXISTS over the table itself.
 */
function selfSubquery(link: Node, target: string | undefined): boolean {
  if (target === undefined) return false;
  // `EXISTS (SELECT 1 FROM <the table itself> u WHERE u.id = t.id)`: each row finds itself.
  if (link.subLinkType === 'EXISTS_SUBLINK') {
    const select = (link.subselect as Node | undefined)?.SelectStmt as Node | undefined;
    if (!select || limited(select) || select.op !== 'SETOP_NONE' || select.havingClause || select.groupClause) return false;
    const from = (select.fromClause ?? []) as Array<{ RangeVar?: Node }>;
    return from.length === 1 && from[0]!.RangeVar?.relname === target && (select.whereClause === undefined || tautological(select.whereClause, target));
  }
  if (link.subLinkType !== 'ANY_SUBLINK') return false;
  const oper = stringItems({ List: { items: (link.operName ?? []) as unknown[] } });
  if (oper.length > 0 && oper[oper.length - 1] !== '=') return false;
  const select = (link.subselect as Node | undefined)?.SelectStmt as Node | undefined;
  if (!select || limited(select) || select.op !== 'SETOP_NONE') return false;
  const from = (select.fromClause ?? []) as Array<{ RangeVar?: Node }>;
  if (from.length !== 1 || from[0]!.RangeVar?.relname !== target) return false;
  const targets = (select.targetList ?? []) as Array<{ ResTarget?: { val?: unknown } }>;
  if (targets.length !== 1 || !sameColumnsOnly(link.testexpr, targets[0]!.ResTarget?.val)) return false;
  return select.whereClause === undefined || tautological(select.whereClause, target);
}

/** An equality that names the rows it holds for (`id = 7`, `id IN (1, 2)`): its negation spares only those. */
function onlyNames(expr: unknown): boolean {
  const body = (expr as Node | undefined)?.A_Expr as Node | undefined;
  if (!body) return false;
  return ((body.kind === 'AEXPR_OP' || body.kind === 'AEXPR_IN') && opName(body) === '=') || body.kind === 'AEXPR_NOT_DISTINCT';
}

/** A range comparison's negation (`id < 1` fails exactly where `id >= 1` holds, NULL aside). */
const negatedRange: Readonly<Record<string, string>> = lookupTable({ '<': '>=', '<=': '>', '>': '<=', '>=': '<' });

/**
 * True when a condition holds for no row (`id <> id`, `false`, NOT of a tautology, a range whose
 * negation holds for every row: `id < 1` on a key, `id > 1e30`; twenty-fifth pass: `NOT (id < 1)`
 * was a narrow write while `id >= 1` was held).
 */
function contradictory(expr: unknown, target?: string): boolean {
  const [type, body] = (Object.entries((expr ?? {}) as Node)[0] ?? []) as [string | undefined, Node | undefined];
  if (!type || !body) return false;
  if (type === 'A_Const' && (body.boolval as { boolval?: boolean } | undefined)?.boolval === undefined && body.boolval !== undefined) return true; // false
  if (type === 'BoolExpr') {
    const args = (body.args ?? []) as unknown[];
    if (body.boolop === 'AND_EXPR') return args.some((a) => contradictory(a, target));
    if (body.boolop === 'OR_EXPR') return args.every((a) => contradictory(a, target));
    if (body.boolop === 'NOT_EXPR') return args.length === 1 && tautological(args[0], target);
  }
  if (type === 'A_Expr' && body.kind === 'AEXPR_OP' && body.lexpr !== undefined && shape(body.lexpr) === shape(body.rexpr)) return alwaysFalseOps.has(opName(body));
  const negated = type === 'A_Expr' && body.kind === 'AEXPR_OP' && body.lexpr !== undefined ? negatedRange[opName(body)] : undefined;
  if (negated !== undefined && tautological({ A_Expr: { ...body, name: [{ String: { sval: negated } }] } }, target)) return true;
  if (type === 'A_Expr' && body.kind === 'AEXPR_DISTINCT' && shape(body.lexpr) === shape(body.rexpr)) return true;
  return false;
}

/**
 * A setting and the value given it, for a grant's scope: `search_path=auth,public`; `DEFAULT` and
 * `RESET` by name; a value that is not constant text or a number is `?` plus a digest of its
 * expression (two such values prove no sameness).
 */
function settingItem(name: string, args: unknown[], kind: string): string {
  const key = name.trim().toLowerCase();
  if (kind === 'VAR_RESET' || kind === 'VAR_RESET_ALL') return `${key}:reset`;
  if (kind !== 'VAR_SET_VALUE') return `${key}:${kind.replace(/^VAR_/, '').toLowerCase()}`;
  const values = args.map((a) => {
    const c = (a as Node | undefined)?.A_Const as Node | undefined;
    const text = constantText(a);
    if (text !== undefined) return JSON.stringify(text);
    const num = (c?.ival as { ival?: number } | undefined)?.ival ?? (c?.fval as { fval?: string } | undefined)?.fval;
    if (c && num === undefined && c.ival !== undefined) return '0';
    if (num !== undefined) return String(num);
    return `?${createHash('sha256').update(shape(a)).digest('hex').slice(0, 16)}`;
  });
  return `${key}=${values.join(',')}`;
}

interface Analysis {
  statement: SqlStatement;
  readOnly: boolean;
  /** The statement changes privileges or access control (GRANT, roles, row-level security, owners, policies). */
  privilege: boolean;
}

/**
 * Whether an UPDATE's target is pg_settings, whose rule turns each row updated into set_config.
 * Also a view's relation (fourteenth pass): a view over pg_settings is automatically updatable, and
 * an UPDATE of it runs pg_settings' rule (`CREATE TEMP VIEW s AS SELECT * FROM pg_settings` then
 * `UPDATE s SET setting = 'replica' WHERE name = 'session_replication_role'`), under a name nothing follows.
 */
function updatesSettings(relation: Node | undefined): boolean {
  if (!relation || String(relation.relname ?? '').toLowerCase() !== 'pg_settings') return false;
  const schema = relation.schemaname === undefined ? undefined : String(relation.schemaname).toLowerCase();
  return schema === undefined || schema === 'pg_catalog';
}

/** A SECURITY DEFINER option among a function statement's options or actions. */
function securityDefiner(list: unknown): boolean {
  return ((list ?? []) as Array<{ DefElem?: { defname?: string; arg?: { Boolean?: { boolval?: boolean } } } }>)
    .some((o) => o.DefElem?.defname === 'security' && o.DefElem.arg?.Boolean?.boolval === true);
}

/**
 * A function or procedure whose name says it runs the SQL it is given (`exec_sql`, `run_sql`,
 * `execute_sql`, `run_query`, `exec_statement`, `execute`, `eval_sql`): the author's own, so its
 * body is not seen, but its argument is the statement it runs.
 */
function runsSqlByName(name: string): boolean {
  const k = name.toLowerCase().replace(/[_-]/g, '');
  return /sql|quer(y|ies)|statement|stmt/.test(k) || /^(exec|eval|dynamic)/.test(k);
}

/** How deep SQL texts inside SQL are read (a text argument holding a call holding a text …). */
let innerSqlDepth = 0;
/**
 * A constant text argument that reads as SQL a DELETE/UPDATE of every row, a DROP, a privilege
 * change … would be (twenty-fifth pass: `SELECT exec_sql('DROP TABLE users')` was a medium write on
 * every SQL endpoint, as any call of an unknown function is; its PostgREST twin `rpc/exec_sql` was held).
 */
function destructiveSqlText(arg: unknown): boolean {
  const text = constantText(arg);
  if (text === undefined || text.trim() === '' || text.length > 64 * 1024 || innerSqlDepth >= 2) return false;
  innerSqlDepth++;
  try {
    const inner = analyzeSql([text], 'postgresql');
    return inner.info.parsed && inner.info.destructive;
  } finally {
    innerSqlDepth--;
  }
}

function analyzeStatement(type: string, body: Node, text: string | undefined, dialect: 'postgresql' | 'unknown' | 'sqlite' = 'postgresql'): Analysis {
  const ctes = new Set<string>();
  const tables: string[] = [];
  /** Functions called that are not proven read-only, by name as written (schema included). */
  const functions: string[] = [];
  let destructive = false;
  let privilege = false;
  let readOnly = readOnlyTop.has(type);
  // Sets beside the lists: a statement may name tens of thousands (a linear search each was quadratic).
  const tableSet = new Set<string>();
  const functionSet = new Set<string>();
  const settings: string[] = [];
  /** The statement's column references by name (alone, it may be a table's whole row). */
  const columnRefs: Array<{ name: string; alone: boolean }> = [];
  const addFunction = (written: string): void => {
    if (!functionSet.has(written)) functions.push(written), functionSet.add(written);
  };
  const addTable = (name: string): void => {
    if (name && !tableSet.has(name)) tables.push(name), tableSet.add(name);
  };
  const all = [[type, body] as [string, Node], ...nodes({ root: body })];
  for (const [t, n] of all) {
    if (t === 'CommonTableExpr' && typeof n.ctename === 'string') ctes.add(n.ctename);
  }
  for (const [t, n] of all) {
    switch (t) {
      case 'RangeVar': {
        const name = qualified([n.catalogname, n.schemaname, n.relname].filter((p): p is string => typeof p === 'string'));
        if (!(n.schemaname === undefined && ctes.has(String(n.relname)))) addTable(name);
        // A view made over pg_settings updates settings as pg_settings does (see updatesSettings).
        if (type === 'ViewStmt' && n !== body.view && updatesSettings(n)) destructive = privilege = true;
        if (!(n.schemaname === undefined && ctes.has(String(n.relname))) && readsSecrets(n)) destructive = privilege = true;
        break;
      }
      case 'VariableShowStmt':
        if (secretSetting(String(n.name ?? ''))) destructive = privilege = true;
        break;
      case 'ColumnRef': {
        const fields = (n.fields ?? []) as Array<{ String?: { sval?: string }; A_Star?: unknown }>;
        const last = fields[fields.length - 1];
        // A qualified star (`u.*`, in a SELECT list or a function's argument) is that relation's whole row.
        if (last?.A_Star === undefined) columnRefs.push({ name: String(last?.String?.sval ?? ''), alone: fields.length === 1 });
        else if (fields.length >= 2) columnRefs.push({ name: String(fields[fields.length - 2]?.String?.sval ?? ''), alone: true });
        break;
      }
      case 'DefElem': {
        // Athena's and Trino's `CREATE TABLE … WITH (external_location = 's3://…') AS SELECT …`
        // (also `location`): the rows written to an object store the request names, outside the
        // database, as Aurora's `query_export_to_s3` does (twenty-seventh pass: a plain CREATE TABLE
        // AS on an endpoint of unknown dialect, medium).
        const arg = n.arg as Node | undefined;
        const value = (arg?.String as Node | undefined)?.sval ?? constantText(arg);
        if (dialect === 'unknown' && (type === 'CreateStmt' || type === 'CreateTableAsStmt' || type === 'AlterTableStmt')
          && /^(external_location|location)$/i.test(String(n.defname ?? '')) && typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) destructive = true;
        break;
      }
      case 'DropStmt':
        destructive = true;
        if (tableObjectTypes.has(String(n.removeType))) for (const o of (n.objects ?? []) as unknown[]) addTable(qualified(stringItems(o)));
        break;
      case 'TruncateStmt':
        destructive = true;
        break;
      case 'AlterTableStmt':
        for (const c of (n.cmds ?? []) as Array<{ AlterTableCmd?: { subtype?: string; def?: Node } }>) {
          const sub = String(c.AlterTableCmd?.subtype ?? '');
          if (/Drop|Detach/.test(sub) || rewritingAlterTable.has(sub)) destructive = true;
          if (privilegeAlterTable.test(sub)) destructive = privilege = true;
          if (dropsInvokerRights(sub, c.AlterTableCmd?.def)) destructive = privilege = true;
        }
        readOnly = false;
        break;
      case 'DeleteStmt':
      case 'UpdateStmt':
        judgedSystemColumns = dialect === 'postgresql' ? sharedSystemColumns : tableoidOnly;
        numberReadings = dialect === 'unknown' ? ['pg', 'mysql'] : ['pg'];
        numbersAreConditions = dialect !== 'postgresql';
        judgedCtes = new Map(((((n.withClause as Node | undefined)?.ctes ?? []) as Array<{ CommonTableExpr?: Node }>)
          .filter((c) => c.CommonTableExpr?.ctequery !== undefined && (c.CommonTableExpr.ctequery as Node).SelectStmt !== undefined && !((c.CommonTableExpr.aliascolnames as unknown[] | undefined)?.length))
          .map((c) => [String(c.CommonTableExpr!.ctename), c.CommonTableExpr!.ctequery])));
        try {
          if (tautological(n.whereClause, (n.relation as Node | undefined)?.relname as string | undefined) || keyConditionHolds(n.whereClause)) destructive = true;
          // Twenty-seventh pass: the same WHERE as the server reads it in its own dialect (Snowflake's
          // and Databricks' `IDENTIFIER('id')` a column) and as it reaches the table below a view
          // or CTE the request made. Each reading only adds: the WHERE as written is judged above.
          const named = dialect === 'unknown' && n.whereClause !== undefined ? identifiersNamed(n.whereClause) : undefined;
          if (named !== undefined && (tautological(named, (n.relation as Node | undefined)?.relname as string | undefined) || keyConditionHolds(named))) destructive = true;
          // A WHERE that names no column of the target's row holds for all of its rows or none.
          if (n.whereClause !== undefined && !namesTargetRow(n.whereClause, n.relation as Node | undefined)) destructive = true;
          const below = throughDefinition(n.relation as Node | undefined, named ?? n.whereClause);
          if (below !== undefined && (tautological(below.where, below.target) || keyConditionHolds(below.where))) destructive = true;
        } finally {
          judgedCtes = new Map();
          judgedSystemColumns = tableoidOnly;
          numberReadings = ['pg'];
          numbersAreConditions = false;
        }
        if (t === 'UpdateStmt' && updatesSettings(n.relation as Node | undefined)) {
          // An UPDATE of pg_settings is set_config for each row its WHERE picks (the view's rule):
          // SET ROLE, session_replication_role or client_encoding by a name the analysis does not follow.
          destructive = privilege = true;
          const value = ((n.targetList ?? []) as Array<{ ResTarget?: { name?: string; val?: unknown } }>).find((r) => r.ResTarget?.name === 'setting')?.ResTarget?.val;
          settings.push(settingItem('?', [value], 'VAR_SET_VALUE'));
        }
        readOnly = false;
        break;
      case 'InsertStmt':
        // ON CONFLICT DO UPDATE rewrites rows that already exist.
        if ((n.onConflictClause as Node | undefined)?.action === 'ONCONFLICT_UPDATE') destructive = true;
        // A row written to Supabase Realtime's messages is broadcast to its topic's subscribers.
        if (outboundTables.has(`${String((n.relation as Node | undefined)?.schemaname ?? '').toLowerCase()}.${String((n.relation as Node | undefined)?.relname ?? '').toLowerCase()}`)) destructive = true;
        readOnly = false;
        break;
      case 'MergeStmt':
        // WHEN MATCHED THEN DELETE/UPDATE removes or rewrites existing rows chosen by data, not by the text.
        for (const w of (n.mergeWhenClauses ?? []) as Array<{ MergeWhenClause?: Node }>) {
          const cmd = w.MergeWhenClause?.commandType;
          if (cmd === 'CMD_DELETE' || cmd === 'CMD_UPDATE') destructive = true;
        }
        readOnly = false;
        break;
      case 'TransactionStmt':
        if (n.kind === 'TRANS_STMT_PREPARE') readOnly = false;
        if (n.kind === 'TRANS_STMT_COMMIT_PREPARED' || n.kind === 'TRANS_STMT_ROLLBACK_PREPARED') destructive = true;
        break;
      case 'VariableSetStmt':
        if (privilegeSettings.has(String(n.name ?? '').toLowerCase())) destructive = privilege = true; // SET ROLE / SESSION AUTHORIZATION
        if (n.kind === 'VAR_SET_VALUE' && changesLaterReading(String(n.name ?? ''), ((n.args ?? []) as unknown[]).map(constantText))) destructive = privilege = true;
        // MySQL's own name for it (`SET character_set_client = 'gbk'`: the addslashes bypass), on an endpoint that may be MySQL.
        if (dialect === 'unknown' && n.kind === 'VAR_SET_VALUE' && String(n.name ?? '').toLowerCase() === 'character_set_client' && !mysqlSafeCharset(constantText(((n.args ?? []) as unknown[])[0]))) destructive = privilege = true;
        if (dialect === 'unknown' && n.kind === 'VAR_SET_VALUE' && mysqlPrivilegeSettings.has(String(n.name ?? '').toLowerCase())) destructive = privilege = true;
        if (dialect === 'unknown' && n.kind === 'VAR_SET_VALUE') {
          const effect = clickhouseSettingEffect(String(n.name ?? ''), constantText(((n.args ?? []) as unknown[])[0]) ?? numberReading(((n.args ?? []) as unknown[])[0], 'pg')?.toString());
          if (effect) destructive = true;
          if (effect === 'privilege') privilege = true;
        }
        if (dialect === 'unknown' && n.kind === 'VAR_RESET' && mysqlResets.has(String(n.name ?? '').toLowerCase())) destructive = true;
        if (typeof n.name === 'string') settings.push(settingItem(n.name, n.kind === 'VAR_SET_VALUE' ? ((n.args ?? []) as unknown[]) : [], String(n.kind ?? '')));
        break;
      case 'A_Expr':
      case 'SubLink':
      case 'SortBy': {
        // MySQL's `&&` (AND) read by PostgreSQL's grammar as an operator over a number or a truth
        // value (`id = 5 && id IN (1, 2)` is `id = (5 && id) …`): PostgreSQL has none, and refuses
        // the statement, so on an endpoint of unknown dialect MySQL's reading is the one that runs
        // (twenty-second pass, follow-up: such a text was held as every row by this reading).
        if (dialect === 'unknown' && t === 'A_Expr' && n.kind === 'AEXPR_OP' && opName(n) === '&&' && (truthOrNumber(n.lexpr) || truthOrNumber(n.rexpr))) {
          throw new Error('PostgreSQL has no && over a number or a truth value');
        }
        if (t === 'A_Expr' && !operatorKinds.has(String(n.kind))) break;
        const parts = t === 'A_Expr' ? ((n.name ?? []) as Array<{ String?: { sval?: string } }>).map((p) => p.String?.sval ?? '') : namedOperator(t, n);
        if (!parts || builtinOperator(parts)) break;
        addFunction(`operator(${parts.join('.')})`);
        readOnly = false;
        break;
      }
      case 'SelectStmt':
        if (n.intoClause || n.lockingClause) readOnly = false;
        break;
      case 'CallStmt':
      case 'FuncCall': {
        // CALL's procedure comes as a typed (unwrapped) field.
        const call = t === 'CallStmt' ? ((n.funccall ?? {}) as Node) : n;
        const parts = funcName(call);
        const name = (parts[parts.length - 1] ?? '').toLowerCase();
        if (destructiveFunctions.has(name)) destructive = true;
        if (dialect === 'unknown' && (otherDialectFunctions.has(name) || parts.some((p) => otherDialectPackages.has(p.toLowerCase())))) destructive = true;
        if (dialect === 'unknown' && (otherDialectProcedures.has(name) || (t === 'CallStmt' && name === 'vacuum'))) destructive = true;
        // DuckDB's `glob('/root/.ssh/*')` lists server files (SQLite's glob takes two arguments).
        if (dialect === 'unknown' && name === 'glob' && ((call.args ?? []) as unknown[]).length === 1) destructive = true;
        if (runsTextWithArgs[name] !== undefined && ((call.args ?? []) as unknown[]).length === runsTextWithArgs[name]) destructive = true;
        if (runsText(parts)) destructive = true;
        if (!destructive && t === 'FuncCall' ? !isReadOnlyFunction(parts) && runsSqlByName(name) : t === 'CallStmt' && runsSqlByName(name)) {
          if (((call.args ?? []) as unknown[]).some(destructiveSqlText)) destructive = true;
        }
        if (runsText(parts, outboundFunctions)) destructive = true;
        if (runsText(parts, destroyingExtensionFunctions)) destructive = true;
        if (t === 'CallStmt' || !isReadOnlyFunction(parts)) addFunction(qualified(parts));
        if (t === 'CallStmt') break;
        const relation = namedRelationReaders[name];
        if (relation) {
          const named = constantText(((call.args ?? []) as unknown[])[0]);
          addTable(named === undefined ? '?' : relation(named.trim()));
        }
        // `current_setting('app.settings.jwt_secret')`: a secret kept as a setting, read (twenty-seventh pass).
        if (name === 'current_setting' && secretSetting(constantText(((call.args ?? []) as unknown[])[0]) ?? '')) destructive = privilege = true;
        // set_config('role', …) is SET ROLE spelled as a function; a setting named by an expression may be it.
        if (name === 'set_config') {
          const args = (call.args ?? []) as unknown[];
          const setting = constantText(args[0]);
          if (setting === undefined || privilegeSettings.has(setting.trim().toLowerCase())) destructive = privilege = true;
          if (setting !== undefined && changesLaterReading(setting, [constantText(args[1])], 'list')) destructive = privilege = true;
          settings.push(settingItem(setting ?? '?', [args[1]], 'VAR_SET_VALUE'));
        }
        if (!isReadOnlyFunction(parts)) readOnly = false;
        break;
      }
      case 'DiscardStmt':
        // DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT (checked on PostgreSQL 15: after `SET
        // ROLE low`, it acts as the login role again), which is critical spelled so or as RESET ROLE:
        // on a pooled connection (Supabase's pg-meta, a pooler in session mode) the application's
        // later statements there run with the login role's rights, past the role it set (fifteenth pass).
        if (n.target === 'DISCARD_ALL') destructive = privilege = true;
        break;
      case 'DoStmt':
        // A DO block runs procedural code this analysis cannot see into.
        destructive = true;
        break;
      case 'CopyStmt':
        // COPY … PROGRAM runs a shell command on the database host; COPY to or from a file reads or
        // writes the server's file system. COPY FROM STDIN is a bulk insert, COPY TO STDOUT a read.
        if (n.is_program || n.filename) destructive = true;
        if (n.is_from) readOnly = false;
        break;
      case 'CreateFunctionStmt':
        // A function body in a string is code this analysis does not read; new-style SQL bodies
        // (BEGIN ATOMIC … END) are parsed nodes and are walked like any other statement. OR REPLACE
        // changes code others already call (see the default case).
        if (!n.sql_body || n.replace === true) destructive = true;
        if (shadowsBuiltin(stringItems({ List: { items: (n.funcname ?? []) as unknown[] } }), readOnlyFunctions)) destructive = true;
        if (securityDefiner(n.options)) destructive = privilege = true;
        break;
      case 'AlterFunctionStmt':
        if (securityDefiner(n.actions)) destructive = privilege = true;
        // A search_path set on a function decides which schema's tables and functions its body
        // resolves to: pointed at one the agent writes, a SECURITY DEFINER function runs the agent's code.
        if (((n.actions ?? []) as Array<{ DefElem?: { defname?: string; arg?: { VariableSetStmt?: { name?: string } } } }>)
          .some((a) => a.DefElem?.defname === 'set' && String(a.DefElem.arg?.VariableSetStmt?.name ?? '').toLowerCase() === 'search_path')) destructive = privilege = true;
        break;
      case 'RenameStmt':
      case 'AlterObjectSchemaStmt':
        // A function, procedure or view renamed or moved: the name others' statements, triggers and
        // row-level security policies call now reaches other code (a swap is CREATE OR REPLACE).
        if (codeObjectTypes.has(String(t === 'RenameStmt' ? n.renameType : n.objectType))) destructive = true;
        if (dataObjectTypes.has(String(t === 'RenameStmt' ? n.renameType : n.objectType))) destructive = true;
        // A role renamed: who PostgREST, Neon's Data API or a pooler acts as (by name) becomes another role.
        if (t === 'RenameStmt' && n.renameType === 'OBJECT_ROLE') destructive = privilege = true;
        break;
      case 'AlterEnumStmt':
        // `ALTER TYPE level RENAME VALUE 'admin' TO 'user'`: every row holding the value now holds
        // the other (three renames swap two values), an UPDATE of every row (fourteenth pass).
        if (n.oldVal !== undefined) destructive = true;
        break;
      case 'AlterDomainStmt':
        // A domain's CHECK or NOT NULL dropped, as ALTER TABLE … DROP CONSTRAINT / DROP NOT NULL is.
        if (n.subtype === 'X' || n.subtype === 'N') destructive = true;
        break;
      case 'DefineStmt':
        // CREATE OR REPLACE AGGREGATE replaces code others call (as in the default case); an
        // operator or aggregate named as a built-in takes its calls (shadowsBuiltin).
        if (n.replace === true) destructive = true;
        if (n.kind === 'OBJECT_OPERATOR' && shadowsBuiltin(stringItems({ List: { items: (n.defnames ?? []) as unknown[] } }), builtinOperators)) destructive = true;
        if (n.kind === 'OBJECT_AGGREGATE' && shadowsBuiltin(stringItems({ List: { items: (n.defnames ?? []) as unknown[] } }), readOnlyFunctions)) destructive = true;
        break;
      case 'ViewStmt': {
        // OR REPLACE throws away the view others read through (and whatever rows it kept from them).
        if (n.replace === true) destructive = true;
        // Kept for a later write through it in the same request (throughDefinition).
        const view = n.view as Node | undefined;
        if (typeof view?.relname === 'string') requestViews.set(view.schemaname === undefined ? view.relname : `${String(view.schemaname)}.${view.relname}`, n.query);
        break;
      }
      case 'CreatePolicyStmt':
      case 'AlterPolicyStmt':
        // Row-level security policies decide who sees and changes which rows (a permissive one widens access).
        if (t === 'AlterPolicyStmt' || n.permissive === true) destructive = privilege = true; // the parser omits permissive: false
        break;
      default:
        if (t.startsWith('Drop') && t.endsWith('Stmt')) destructive = true;
        // CREATE OR REPLACE of a function, procedure, aggregate, language or transform replaces
        // code others' statements, triggers and row-level security policies already call (an
        // `is_admin()` that now returns true), like CREATE OR REPLACE VIEW.
        if (t.endsWith('Stmt') && n.replace === true) destructive = true;
        if (privilegeStatements.has(t)) destructive = privilege = true;
        if (unseenCodeStatements.has(t) || outsideStatements.has(t)) destructive = true;
    }
  }
  if (publishesInternalRows(type, body, tables)) destructive = privilege = true;
  if (readsAuthCredentials(all, ctes, columnRefs)) destructive = privilege = true;
  // EXPLAIN ANALYZE runs its statement (fourteenth pass): `EXPLAIN ANALYZE CREATE TABLE public.leak
  // AS SELECT * FROM auth.users` (also SELECT … INTO, CREATE MATERIALIZED VIEW) made the table on a
  // real PostgreSQL, and was an allowed read. The statement is judged as itself, with or without
  // ANALYZE (planning alone may call an IMMUTABLE function, as for the other statements).
  // Likewise the elements of `CREATE SCHEMA s CREATE VIEW v AS … CREATE TABLE t (…)`, each run as its own statement.
  const inners = type === 'ExplainStmt' ? [body.query] : type === 'CreateSchemaStmt' ? ((body.schemaElts ?? []) as unknown[]) : [];
  for (const wrapped of inners) {
    const [innerType, innerBody] = wrapped && typeof wrapped === 'object' ? Object.entries(wrapped as Node)[0] ?? [] : [];
    if (!innerType || !innerBody || typeof innerBody !== 'object') continue;
    const inner = analyzeStatement(innerType, innerBody as Node, undefined, dialect);
    if (inner.statement.destructive) destructive = true;
    if (inner.privilege) privilege = true;
    if (!inner.readOnly) readOnly = false;
  }
  const stored = storedExpressionStatements.has(type) || (type === 'CreateTableAsStmt' && body.objtype === 'OBJECT_MATVIEW');
  if (stored && functions.some((f) => !storedSafe(f))) destructive = true;
  // An implicit or assignment cast runs its function wherever others' statements convert between the types.
  if (type === 'CreateCastStmt' && body.func) destructive = true;
  const statement: SqlStatement = { kind: kindOf(type, body), tables, destructive };
  if (functions.length) statement.functions = functions.sort();
  if (settings.length) statement.settings = [...new Set(settings)].sort();
  if (text !== undefined) statement.text = text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text;
  return { statement, readOnly: readOnly && !destructive, privilege };
}

/**
 * The database's own credential stores (twenty-seventh pass: reading them was a plain read, an
 * allowed GET where SQL comes in the URL): PostgreSQL's role passwords (`pg_authid`, `pg_shadow`)
 * and the passwords of user mappings to other servers (`pg_user_mapping`, `pg_user_mappings`,
 * `information_schema.user_mapping_options`), Supabase Vault's (`vault.decrypted_secrets`,
 * `vault.secrets`) and pgsodium's keys, MySQL's account table (`mysql.user`, `mysql.global_priv`),
 * SQL Server's logins (`sys.sql_logins`), ClickHouse's named collections (connection credentials)
 * and users. Matched by name as written, in that schema or (the catalog's) unqualified.
 */
const secretRelations = new Set([
  'pg_authid', 'pg_shadow', 'pg_user_mapping', 'pg_user_mappings', 'pg_catalog.pg_authid', 'pg_catalog.pg_shadow', 'pg_catalog.pg_user_mapping',
  'pg_catalog.pg_user_mappings', 'information_schema.user_mapping_options', 'vault.decrypted_secrets', 'vault.secrets', 'pgsodium.decrypted_key',
  'pgsodium.key', 'mysql.user', 'mysql.global_priv', 'sys.sql_logins', 'system.named_collections', 'system.users',
  // Twenty-eighth pass: Supabase Auth's stores of live credentials (refresh tokens, one-time tokens'
  // hashes its verify endpoint takes, TOTP secrets and OTP codes, the OAuth providers' access and
  // refresh tokens of a login in progress, OAuth clients' secrets), each an allowed read before.
  'auth.refresh_tokens', 'auth.one_time_tokens', 'auth.mfa_factors', 'auth.mfa_challenges', 'auth.flow_state', 'auth.oauth_clients',
  // PostgreSQL's subscriptions keep the publisher's connection string, password included.
  'pg_subscription', 'pg_catalog.pg_subscription',
]);
function readsSecrets(range: Node): boolean {
  const name = [range.schemaname, range.relname].filter((p): p is string => typeof p === 'string').join('.').toLowerCase();
  return secretRelations.has(name);
}
/**
 * Supabase Auth's columns that hold a credential of each user (twenty-eighth pass: `SELECT * FROM
 * auth.users` to Supabase's SQL endpoint was an allowed read): the password hash, and the tokens
 * GoTrue keeps for confirmation, recovery, email and phone changes and reauthentication (each the
 * `token_hash` its verify endpoint takes: a login as that user). Read by name, by `*` or as the
 * table's whole row (`to_jsonb(u)`); `id`, `email` and the other columns stay a plain read.
 */
const authCredentialColumn = (name: string): boolean => /password|token|secret/i.test(name);
const isAuthUsers = (n: Node): boolean => String(n.relname ?? '').toLowerCase() === 'users' && String(n.schemaname ?? '').toLowerCase() === 'auth';
/** The names auth.users goes by in a FROM list (its joins too, not its subqueries, whose own SELECT is looked at by itself). */
function authUsersInFrom(items: unknown[], into: Set<string>, depth = 0): void {
  if (depth > 64) return;
  for (const item of items) {
    const it = item as { RangeVar?: Node; JoinExpr?: Node } | undefined;
    if (it?.RangeVar && isAuthUsers(it.RangeVar)) {
      const alias = (it.RangeVar.alias as Node | undefined)?.aliasname;
      into.add(typeof alias === 'string' ? alias : 'users');
    } else if (it?.JoinExpr) authUsersInFrom([it.JoinExpr.larg, it.JoinExpr.rarg], into, depth + 1);
  }
}
function readsAuthCredentials(all: Array<[string, Node]>, ctes: ReadonlySet<string>, refs: ReadonlyArray<{ name: string; alone: boolean }>): boolean {
  const rows = new Set<string>();
  for (const [t, n] of all) {
    if (t !== 'RangeVar' || !isAuthUsers(n)) continue;
    const alias = (n.alias as Node | undefined)?.aliasname;
    rows.add(typeof alias === 'string' ? alias : 'users');
  }
  if (!rows.size) return false;
  // `COPY auth.users TO STDOUT`: every column, or the ones listed.
  for (const [t, n] of all) {
    if (t !== 'CopyStmt' || n.is_from === true || !n.relation || !isAuthUsers(n.relation as Node)) continue;
    const listed = ((n.attlist ?? []) as Array<{ String?: { sval?: string } }>).map((a) => String(a.String?.sval ?? ''));
    if (!listed.length || listed.some(authCredentialColumn)) return true;
  }
  if (refs.some((r) => authCredentialColumn(r.name) || (r.alone && rows.has(r.name) && !ctes.has(r.name)))) return true;
  // `*` or `u.*` in a SELECT list whose own FROM holds auth.users (a star over a CTE or subquery of its ids reads only those).
  for (const [t, n] of all) {
    if (t !== 'SelectStmt' || !Array.isArray(n.fromClause)) continue;
    const here = new Set<string>();
    authUsersInFrom(n.fromClause as unknown[], here);
    if (!here.size) continue;
    for (const target of (n.targetList ?? []) as Array<{ ResTarget?: { val?: { ColumnRef?: Node } } }>) {
      const fields = (target.ResTarget?.val?.ColumnRef?.fields ?? []) as Array<{ String?: { sval?: string }; A_Star?: unknown }>;
      if (fields[fields.length - 1]?.A_Star === undefined) continue;
      if (fields.length === 1 || here.has(String(fields[fields.length - 2]?.String?.sval ?? ''))) return true;
    }
  }
  return false;
}

/** A setting whose name says it holds a credential (`app.settings.jwt_secret`, `motherduck_token`, `s3_secret_access_key`). */
const secretSetting = (name: string): boolean => /secret|token|passw|credential|api[-_]?key|access[-_]?key|private[-_]?key/i.test(name);

/**
 * Schemas of the platform's own data, never served by the Data API: Supabase's users and sessions,
 * Vault's decrypted secrets, Storage's objects, Realtime, pg_net's responses, pg_cron's jobs, and
 * `extensions` (pg_stat_statements: every session's query text).
 */
const internalSchemas = ['auth', 'vault', 'storage', 'pgsodium', 'pgsodium_masks', 'realtime', 'supabase_functions', 'net', 'cron', 'extensions'];

/**
 * A view, materialized view or table made from a query (CREATE VIEW, CREATE MATERIALIZED VIEW,
 * CREATE TABLE … AS, SELECT … INTO) in the schema the Data API serves (`public`, or unqualified:
 * the first of the search path) over a table of an internal schema: its rows are served to every
 * anon-key client (Supabase grants new relations in `public` to `anon`; a view runs as its owner,
 * past row-level security and past the grants `anon` lacks on `auth.users`), as Supabase's own
 * linter warns (`auth_users_exposed`, `security_definer_view`). A privilege change: who reads
 * what. A view with `security_invoker = true` reads as its caller and is left as a write.
 */
function publishesInternalRows(type: string, body: Node, tables: readonly string[]): boolean {
  let target: Node | undefined;
  if (type === 'ViewStmt') {
    type Arg = { String?: { sval?: string }; Boolean?: { boolval?: boolean }; Integer?: { ival?: number } };
    const invoker = ((body.options ?? []) as Array<{ DefElem?: { defname?: string; arg?: Arg } }>).some((o) => {
      if (o.DefElem?.defname !== 'security_invoker') return false;
      const arg = o.DefElem.arg;
      const v = String(arg?.String?.sval ?? arg?.Boolean?.boolval ?? arg?.Integer?.ival ?? (arg === undefined ? 'true' : '')).toLowerCase();
      return v === 'true' || v === 'on' || v === '1' || v === 'yes';
    });
    if (invoker) return false;
    target = body.view as Node | undefined;
  } else if (type === 'CreateTableAsStmt') target = (body.into as Node | undefined)?.rel as Node | undefined;
  else if (type === 'SelectStmt') target = (body.intoClause as Node | undefined)?.rel as Node | undefined;
  if (!target) return false;
  const schema = target.schemaname === undefined ? 'public' : String(target.schemaname);
  if (schema !== 'public' && schema !== 'graphql_public') return false;
  return tables.some((t) => internalSchemas.some((s) => t.startsWith(`${s}.`)));
}

export interface SqlAnalysis {
  info: SqlInfo;
  /** True when every statement only reads (no writes, no locks, no unknown function calls). */
  readOnly: boolean;
  /** True when every destructive statement is a privilege change (effect `admin` rather than `delete`). */
  privilegeOnly?: boolean;
  /** Unparsed because the text passed a size or statement limit (another reading of it would too). */
  limited?: boolean;
  /** Per statement: its whole text and the index of the text it came from, for another grammar's reading of it alone. */
  sources?: Array<{ text: string; of: number }>;
  /** Per statement (PostgreSQL's reading): a DELETE/UPDATE whose WHERE PostgreSQL's reading proves narrow without a sample run (provenNarrow). */
  narrow?: boolean[];
}

function unparsed(error: string, statements: SqlStatement[] = []): SqlAnalysis {
  return { info: { dialect: 'postgresql', parsed: false, error, statements, destructive: true }, readOnly: false };
}

/** How many bytes the standard_conforming_strings=off reading may scan per text, as a multiple of its length. */
const BACKSLASH_SCAN_BUDGET = 4;
/** Texts shorter than this always get a full budget of rescans (small queries with many escapes). */
const BACKSLASH_SCAN_FLOOR = 64 * 1024;

/**
 * Whether a '…' literal, as the lexer took it with standard_conforming_strings on, would end
 * elsewhere with backslash escapes (a `\'` inside, or a backslash before the closing quote).
 * Literals that end in the same place read as the same statements either way.
 */
function endsElsewhereWithBackslashes(literal: string): boolean {
  if (!literal.includes('\\')) return false;
  const end = literal.length - 1;
  let i = 1;
  while (i < end) {
    const c = literal[i];
    if (c === '\\') i += 2;
    else if (c === "'") {
      if (i + 1 < end && literal[i + 1] === "'") i += 2;
      else return true;
    } else i++;
  }
  return i !== end;
}

/**
 * The text as a server with `standard_conforming_strings = off` reads it (a setting a session, a
 * role or an old server may have): there a backslash escapes in every '…' string, as in E'…', so
 * `'a\''; DROP TABLE t; -- '` is a string, a DROP and a comment rather than one string. Built with
 * PostgreSQL's own lexer: the first plain string literal holding a backslash is rewritten as an
 * E'…' string and the rest scanned again, until none is left. Returns undefined when both settings
 * read the text alike or the other setting cannot lex it (that server rejects the whole text before
 * running any of it), and null when the rescans would pass their budget (the reading is unknown).
 */
export function backslashReading(sql: string): string | undefined | null {
  const pg = parser.get();
  if (!pg || !sql.includes('\\')) return undefined;
  let bytes = Buffer.from(sql);
  const budget = Math.max(bytes.length, BACKSLASH_SCAN_FLOOR) * BACKSLASH_SCAN_BUDGET;
  let scanned = 0;
  let operators = 0;
  // Lexing restarts at a token's first byte; what lies before it is read the same either way.
  let base = 0;
  let changed = false;
  for (;;) {
    const rest = bytes.subarray(base);
    scanned += rest.length;
    if (scanned > budget) return null;
    const text = rest.toString('utf8');
    // Each rescan lexes the rest's operator runs again (see operatorRunCost).
    operators += operatorRunCost(text);
    if (operators > MAX_OPERATOR_RUN_COST * BACKSLASH_SCAN_BUDGET) return null;
    let tokens: Array<{ start: number; text: string; tokenName: string }>;
    try {
      tokens = pg.scanSync(text).tokens as typeof tokens;
    } catch {
      return undefined;
    }
    const next = tokens.find((tk) => tk.tokenName === 'SCONST' && tk.text.startsWith("'") && endsElsewhereWithBackslashes(tk.text));
    if (!next) return changed ? bytes.toString('utf8') : undefined;
    const at = base + next.start;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(' E'), bytes.subarray(at)]);
    base = at + 1; // the E'…' literal, now read with backslash escapes
    changed = true;
  }
}

/**
 * The text split as PostgreSQL's lexer splits it, written out for SQLite's grammar: comments (which
 * nest, and whose `--` form ends at a carriage return too) become a blank, E'…' and dollar-quoted
 * strings become standard '…' literals, everything else stays. Servers that lex as PostgreSQL but
 * accept what its grammar refuses (DuckDB's `[…]` lists, SQL Server's nested comments and `[…]`
 * names) read this text; SQLite reading the original may see other statements
 * (`SELECT 1 /* /* *\/ -- *\/ , [x] ; DROP TABLE t` is one SELECT to SQLite). Undefined when
 * PostgreSQL's lexer rejects the text (such a server rejects it too) or is not loaded.
 */
export function pgLexedText(sql: string): string | undefined {
  const literal = (value: string): string => ` '${value.replaceAll("'", "''")}' `;
  return withTokensWritten(sql, (tk) => {
    if (tk.tokenName === 'C_COMMENT' || tk.tokenName === 'SQL_COMMENT') return ' ';
    if (tk.tokenName === 'SCONST' && tk.text.startsWith('$')) {
      const tag = tk.text.slice(0, tk.text.indexOf('$', 1) + 1);
      return literal(tk.text.slice(tag.length, tk.text.length - tag.length));
    }
    if (tk.tokenName === 'SCONST' && (tk.text.startsWith("E'") || tk.text.startsWith("e'"))) return literal(readQuoted(tk.text, 1, 0x27, true)?.value ?? '');
    return undefined;
  });
}

/** A token of PostgreSQL's lexer (byte offsets into the UTF-8 text). */
interface PgToken {
  start: number;
  end: number;
  text: string;
  tokenName: string;
}

/**
 * `sql` as PostgreSQL's lexer splits it, each token `write` gives text for written as that text
 * (`false`: give up). The text itself when nothing was written; undefined when the lexer rejects
 * it or is not loaded, or `write` gave up.
 */
function withTokensWritten(sql: string, write: (tk: PgToken) => string | undefined | false): string | undefined {
  const pg = parser.get();
  if (!pg) return undefined;
  let tokens: PgToken[];
  try {
    tokens = pg.scanSync(sql).tokens as PgToken[];
  } catch {
    return undefined;
  }
  const bytes = Buffer.from(sql);
  const out: string[] = [];
  let at = 0;
  for (const tk of tokens) {
    const written = write(tk);
    if (written === false) return undefined;
    if (written === undefined) continue;
    out.push(bytes.subarray(at, tk.start).toString('utf8'), written);
    at = tk.end;
  }
  if (at === 0) return sql;
  out.push(bytes.subarray(at).toString('utf8'));
  return out.join('');
}

/**
 * The text with each `$n` PostgreSQL's lexer finds written as the literal of the value bound to it
 * (twenty-first pass: `email ILIKE $1` with `["%%"]`, `~ $1` with `["a*"]`, `SIMILAR TO $1`,
 * `LIKE ANY($1)` with `[["%"]]` were judged by SQLite's sample run alone, which has none of those
 * operators, so they were narrow). Strings as standard literals, numbers and booleans as
 * themselves, lists as `ARRAY[…]`; undefined when a value is none of those (an object, a string
 * holding a backslash, which a literal would read otherwise), the text does not lex, or no `$n`.
 */
export function pgWithValues(sql: string, params: readonly unknown[]): string | undefined {
  if (!parser.get() || params.length === 0) return undefined;
  const literal = (v: unknown, depth: number): string | undefined => {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number') return Number.isFinite(v) ? `(${v})` : undefined;
    if (typeof v === 'string') return v.includes('\\') ? undefined : `'${v.replaceAll("'", "''")}'`;
    if (Array.isArray(v) && depth === 0 && v.length > 0 && v.length <= 100) {
      const items = v.map((x) => literal(x, 1));
      return items.every((x) => x !== undefined) ? `ARRAY[${items.join(', ')}]` : undefined;
    }
    return undefined;
  };
  let bound = false;
  const text = withTokensWritten(sql, (tk) => {
    if (tk.tokenName !== 'PARAM') return undefined;
    const n = Number(tk.text.slice(1));
    if (!(n >= 1 && n <= params.length)) return undefined;
    const written = literal(params[n - 1], 0);
    if (written === undefined) return false;
    bound = true;
    return ` ${written} `;
  });
  return bound ? text : undefined;
}

/**
 * PostgreSQL's lexer reads a run of operator characters in time quadratic in its length: an
 * operator ending in `+` or `-` gives back all but its first character and is read again, and a
 * `/*` inside a run (or a comment) reads to the run's end before giving it back. 64 KiB of `+`
 * kept the main thread for seconds, 1 MiB would for half an hour. The cost is the sum of the
 * squared lengths of the runs; past this budget (tens of milliseconds) the text is not lexed.
 */
export const MAX_OPERATOR_RUN_COST = 2 ** 25;

const isOperatorChar = (c: number): boolean =>
  c === 0x7e || c === 0x21 || c === 0x40 || c === 0x23 || c === 0x5e || c === 0x26 || c === 0x7c || c === 0x60 ||
  c === 0x3f || c === 0x2b || c === 0x2d || c === 0x2a || c === 0x2f || c === 0x25 || c === 0x3c || c === 0x3e || c === 0x3d;

/** The sum of the squared lengths of the runs of PostgreSQL operator characters (strings and comments included). */
export function operatorRunCost(sql: string): number {
  let cost = 0;
  let run = 0;
  for (let i = 0; i <= sql.length; i++) {
    if (i < sql.length && isOperatorChar(sql.charCodeAt(i))) run++;
    else if (run) {
      cost += run * run;
      run = 0;
    }
  }
  return cost;
}

const operatorRunError = 'SQL with runs of operator characters too long to read in bounded time (PostgreSQL lexes them in quadratic time)';

/**
 * Tokens of SQL read in one request, at most. Every grammar's cost grows with them (PostgreSQL's
 * builds a syntax tree of several nodes per token, and a text of unknown dialect is read up to
 * eight ways), on the proxy's event loop that every agent shares: 1 MiB of `f(a),` held it 2.5 s,
 * 64 KiB 0.2–0.4 s. Past this bound the SQL is not read (unparsed, so held at the highest risk), as
 * past MAX_SQL_BYTES; about 20 KB of dense SQL, 50 KB of a bulk INSERT's rows.
 */
export const MAX_SQL_TOKENS = 20_000;

/**
 * What each text costs besides its tokens. Every grammar reads each text with its own call (setup,
 * a parse, its result), which costs as much as a few tokens also when the text is empty: 60,000
 * empty `sql` values in a 300 KB form (`sql=&sql=&…`) counted 0 tokens and held the event loop
 * 2-5 s, a MiB of them ~10 s.
 */
export const SQL_TEXT_TOKENS = 8;

/** More tokens than any grammar lexes in `texts`: each run of word characters and every other visible character, quotes ignored, and SQL_TEXT_TOKENS per text. */
export function sqlTokenBound(texts: readonly string[]): number {
  let n = 0;
  for (const t of texts) {
    n += SQL_TEXT_TOKENS;
    let inWord = false;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127) {
        if (!inWord) n++;
        inWord = true;
      } else {
        inWord = false;
        if (c > 32) n++;
      }
    }
  }
  return n;
}

/**
 * Tokens every grammar together may read for one request (withSqlReadBudget): a text of unknown
 * dialect is read up to a dozen ways (PostgreSQL, SQLite, backslash escapes, each MySQL sql_mode,
 * Oracle, Snowflake, BigQuery, ClickHouse), each tool call of a JSON-RPC batch alone. 60 calls of
 * 14 KB of SQL holding a trigger of every reading (a backslash, `#`, `//`, `'''`, `q'[…]'`, ‘…’)
 * held the main thread 20–30 s, one of them 0.5 s. Past the budget a reading is not made and the
 * SQL is unparsed (limited), which fails closed; three times the bound of one text leaves a text at
 * the bound its ordinary readings.
 */
export const MAX_REQUEST_SQL_TOKEN_READS = 3 * MAX_SQL_TOKENS;

let readBudget: { left: number } | undefined;

/** Runs `fn` (one request's description) with one budget of SQL token reads for every analysis in it. */
export function withSqlReadBudget<T>(fn: () => T): T {
  if (readBudget) return fn();
  readBudget = { left: MAX_REQUEST_SQL_TOKEN_READS };
  try {
    return fn();
  } finally {
    readBudget = undefined;
  }
}

/** Charges one grammar's reading of `texts` to the request's budget: false when it is spent (the reading is not made). Outside withSqlReadBudget every reading is made. */
export function chargeSqlReading(texts: readonly string[]): boolean {
  if (!readBudget) return true;
  readBudget.left -= sqlTokenBound(texts);
  return readBudget.left >= 0;
}

export const readBudgetError = `SQL read more ways than one request's budget allows (${MAX_REQUEST_SQL_TOKEN_READS} tokens over every grammar and reading) was not read`;

/** The unparsed analysis of SQL too long to read in bounded time (MAX_SQL_TOKENS), or undefined. */
export function sqlPastTokenBound(texts: readonly string[]): SqlAnalysis | undefined {
  if (sqlTokenBound(texts) <= MAX_SQL_TOKENS) return undefined;
  return { ...unparsed(`SQL of more than ${MAX_SQL_TOKENS} tokens was not parsed (reading it would hold the proxy for every agent)`), limited: true };
}

/**
 * Parses SQL texts (one per query the request carries) the way PostgreSQL does, into `input.sql`.
 * `unknown`: the text may be for another server, whose own dangerous functions count as well.
 */
/** `sqlite`: PostgreSQL's grammar reading a SQLite server's text (D1), as `postgresql` but for the names its tables may use. */
export function analyzeSql(texts: string[], dialect: 'postgresql' | 'unknown' | 'sqlite' = 'postgresql'): SqlAnalysis {
  // Fail closed (not throw) until the parser is loaded: the SQL is reported unparsed.
  const pg = parser.get();
  if (!pg) return unparsed(parser.missing());
  if (!chargeSqlReading(texts)) return { ...unparsed(readBudgetError), limited: true };
  requestViews = new Map();
  const statements: SqlStatement[] = [];
  const sources: Array<{ text: string; of: number }> = [];
  const narrow: boolean[] = [];
  let readOnly = true;
  let privilegeOnly = true;
  let total = 0;
  let operators = 0;
  for (const [of, sql] of texts.entries()) {
    total += Buffer.byteLength(sql);
    if (total > MAX_SQL_BYTES) return { ...unparsed(`SQL longer than ${MAX_SQL_BYTES} bytes was not parsed`, statements), limited: true };
    operators += operatorRunCost(sql);
    if (operators > MAX_OPERATOR_RUN_COST) return { ...unparsed(operatorRunError, statements), limited: true };
    // The parser (like the server's wire protocol) stops at a NUL byte: text after one would go unseen.
    if (sql.includes('\u0000')) return unparsed('SQL contains a NUL character', statements);
    let tree: { stmts?: Array<{ stmt?: Node; stmt_location?: number; stmt_len?: number }> };
    try {
      tree = pg.parseSync(sql) as typeof tree;
    } catch (err) {
      const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
      const at = details?.cursorPosition !== undefined ? ` (at character ${details.cursorPosition + 1})` : '';
      return unparsed(`${(err as Error).message}${at}`, statements);
    }
    if (statements.length + (tree.stmts?.length ?? 0) > MAX_SQL_STATEMENTS) return { ...unparsed(`more than ${MAX_SQL_STATEMENTS} SQL statements in one request were not analyzed`, statements), limited: true };
    const bytes = Buffer.from(sql);
    for (const s of tree.stmts ?? []) {
      const [type, body] = Object.entries(s.stmt ?? {})[0] ?? [];
      if (!type || !body) continue;
      const start = s.stmt_location ?? 0;
      const end = s.stmt_len ? start + s.stmt_len : bytes.length;
      const text = bytes.subarray(start, end).toString('utf8').trim();
      try {
        const a = analyzeStatement(type, body as Node, text, dialect);
        statements.push(a.statement);
        sources.push({ text, of });
        const where = (body as Node).whereClause;
        narrow.push((type === 'DeleteStmt' || type === 'UpdateStmt') && where !== undefined && provenNarrow(where) && !(dialect === 'unknown' && mysqlNumericText(where)));
        if (!a.readOnly) readOnly = false;
        if (a.statement.destructive && !a.privilege) privilegeOnly = false;
      } catch (err) {
        return unparsed((err as Error).message, statements);
      }
    }
  }
  const destructive = statements.some((s) => s.destructive);
  return { info: { dialect: 'postgresql', parsed: true, statements, destructive }, readOnly, privilegeOnly: destructive && privilegeOnly, sources, narrow };
}

/**
 * How PostgreSQL's grammar takes a text a console still holds (it has not seen its `;`): `complete`
 * (statements, to which more may be added), `prefix` (cut short: more text may finish it; also when
 * the parser is not loaded or the text is too costly to lex), or `invalid` (an error before its end:
 * nothing added later makes it run). Used for line bridges (describe/tunnel-sql.ts).
 */
export function sqlPrefixState(text: string): 'complete' | 'prefix' | 'invalid' {
  const pg = parser.get();
  // Past the bounds a text is read within (tokens, lexing cost) it is not parsed here either.
  if (!pg || sqlTokenBound([text]) > MAX_SQL_TOKENS || operatorRunCost(text) > MAX_OPERATOR_RUN_COST || text.includes('\u0000')) return 'prefix';
  try {
    pg.parseSync(text);
    return 'complete';
  } catch (err) {
    return /at end of input|unterminated/i.test((err as Error).message) ? 'prefix' : 'invalid';
  }
}
