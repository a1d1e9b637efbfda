-- Wrong TOTP codes, counted across every replica (ms since the epoch, the latest five): after
-- five within a minute no code is checked until the minute has passed (state/totp.ts).
ALTER TABLE totp ADD COLUMN failures bigint[] NOT NULL DEFAULT '{}';
