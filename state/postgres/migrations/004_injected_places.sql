-- Where secrets were injected (proxy/injected-hosts.ts; embedded: injected.jsonl): a service keeps
-- what it received, so every replica scrubs what comes back from a place any replica injected a
-- secret into, also after a restart. Names and forms only, never a value.
CREATE TABLE injected_places (
  -- A host name, an address key (@[address]:port), or * (everywhere, past the bound).
  place  text NOT NULL,
  secret text NOT NULL,
  -- How the value left: value, basic:<pair>, query:<template>.
  form   text NOT NULL,
  first  timestamptz NOT NULL DEFAULT now(),
  -- Every request's session entry reads max(seq): a replica behind it reads the new rows before
  -- it forwards, so a read-back is scrubbed at the very next request, notice or not.
  seq    bigserial NOT NULL,
  PRIMARY KEY (place, secret, form)
);
CREATE INDEX injected_places_seq ON injected_places (seq);
