-- A request may write more than one record under its id (a WebSocket tunnel's end record carries
-- its upgrade's id), and the file keeps them all: a row is the same row only when its replica, id
-- and line all match, so a spool shipped twice still inserts once and no record is dropped.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_replica_id_key;
CREATE UNIQUE INDEX audit_log_record ON audit_log (replica, id, md5(line));
