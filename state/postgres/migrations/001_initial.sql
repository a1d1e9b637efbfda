-- Airlock's shared state: what the embedded state folder keeps in files, for N replicas.
-- Applied once by `airlock migrate` (or at start); never edited after release: changes go in a new file.

-- Agents and their tokens (only the SHA-256 of a token is stored).
CREATE TABLE agents (
  name    text PRIMARY KEY,
  labels  jsonb NOT NULL DEFAULT '{}',
  created timestamptz NOT NULL
);
CREATE TABLE agent_tokens (
  id      text PRIMARY KEY,
  agent   text NOT NULL REFERENCES agents(name) ON DELETE CASCADE,
  hash    text NOT NULL,
  label   text,
  created timestamptz NOT NULL,
  expires timestamptz,
  secrets jsonb
);
CREATE INDEX agent_tokens_agent ON agent_tokens(agent);

-- The secret store: values sealed (AES-256-GCM) under a data key, itself sealed under the master
-- key, which is never here (AIRLOCK_MASTER_KEY or a key file on each host).
CREATE TABLE secret_store (
  id   integer PRIMARY KEY CHECK (id = 1),
  wrap jsonb
);
CREATE TABLE secrets (
  name        text PRIMARY KEY,
  placeholder text NOT NULL,
  created     timestamptz NOT NULL,
  updated     timestamptz NOT NULL,
  env         jsonb NOT NULL,
  hosts       jsonb NOT NULL,
  value       jsonb NOT NULL
);

-- Approvals: the record as the embedded queue keeps it, with the columns conditional updates need.
CREATE TABLE approvals (
  id               text PRIMARY KEY,
  agent            text NOT NULL,
  status           text NOT NULL,
  created          timestamptz NOT NULL,
  retry_until      timestamptz NOT NULL,
  used_at          timestamptz,
  held_by          text,
  held_until       timestamptz,
  record           jsonb NOT NULL,
  full_description text
);
CREATE INDEX approvals_status ON approvals(status, created);
CREATE TABLE grants (
  id      text PRIMARY KEY,
  expires timestamptz NOT NULL,
  record  jsonb NOT NULL
);
CREATE TABLE approval_settings (
  id       integer PRIMARY KEY CHECK (id = 1),
  settings jsonb NOT NULL
);

-- TOTP step-up: the secret sealed under the secret store's data key; last accepted step for replay protection.
CREATE TABLE totp (
  id           integer PRIMARY KEY CHECK (id = 1),
  secret       jsonb NOT NULL,
  label        text NOT NULL,
  enrolled_at  timestamptz NOT NULL,
  last_counter bigint
);

-- Published policy versions: sources by version, the history of publishes and rollbacks, the live one.
CREATE TABLE policy_sources (
  version text PRIMARY KEY,
  files   jsonb NOT NULL,
  -- The bundle as the publishing replica compiled it (WASM + data), so the others load it at once.
  wasm    bytea,
  data    jsonb
);
CREATE TABLE policy_history (
  seq     bigserial PRIMARY KEY,
  version text NOT NULL REFERENCES policy_sources(version),
  record  jsonb NOT NULL
);
CREATE TABLE policy_current (
  id      integer PRIMARY KEY CHECK (id = 1),
  version text NOT NULL REFERENCES policy_sources(version)
);

-- The audit log of every replica: one row per record, the line as written (description last).
CREATE TABLE audit_log (
  seq     bigserial PRIMARY KEY,
  replica text NOT NULL,
  id      text NOT NULL,
  time    timestamptz NOT NULL,
  agent   text,
  host    text,
  outcome text NOT NULL,
  line    text NOT NULL,
  UNIQUE (replica, id)
);
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_agent_time ON audit_log(agent, time);
