-- Agent sessions shared by every replica (the AgentSessions port; embedded: sessions.jsonl).
-- A label written here is committed before the response that brought it reaches the agent, and
-- every decision reads the session from these tables, so a label picked up through one replica
-- counts on all of them.
CREATE TABLE sessions (
  id           text PRIMARY KEY,
  agent        text NOT NULL,
  -- The id of the token (never the token itself).
  token        text NOT NULL,
  started      timestamptz NOT NULL,
  last_seen    timestamptz NOT NULL,
  -- Set when a human reset the session: {time, by, reason?}.
  ended        jsonb,
  requests     bigint NOT NULL DEFAULT 0,
  egress_bytes bigint NOT NULL DEFAULT 0
);
-- One live session per token: two replicas starting it at once end with one.
CREATE UNIQUE INDEX sessions_live_token ON sessions(agent, token) WHERE ended IS NULL;
CREATE INDEX sessions_last_seen ON sessions(last_seen);

-- The labels a session holds now, each with its first arrival.
CREATE TABLE session_labels (
  session    text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  label      text NOT NULL,
  request_id text NOT NULL,
  host       text NOT NULL,
  time       text NOT NULL,
  PRIMARY KEY (session, label)
);

-- Label events (added, cleared, reset), newest kept per session.
CREATE TABLE session_events (
  seq     bigserial PRIMARY KEY,
  session text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  event   jsonb NOT NULL
);
CREATE INDEX session_events_session ON session_events(session, seq);

-- Links the session's responses carried (normalized absolute URLs): request.provenance.
CREATE TABLE session_links (
  seq        bigserial,
  session    text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  url        text NOT NULL,
  -- The host the link points to (request.provenance.host_seen).
  url_host   text NOT NULL,
  -- The request whose response carried it.
  request_id text NOT NULL,
  host       text NOT NULL,
  PRIMARY KEY (session, url)
);
CREATE INDEX session_links_age ON session_links(session, seq);
CREATE INDEX session_links_host ON session_links(session, url_host);

-- A session's recent requests (from their audit records).
CREATE TABLE session_timeline (
  seq     bigserial PRIMARY KEY,
  session text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  entry   jsonb NOT NULL
);
CREATE INDEX session_timeline_session ON session_timeline(session, seq);
