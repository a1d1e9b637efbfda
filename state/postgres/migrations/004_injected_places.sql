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
  PRIMARY KEY (place, secret, form)
);
