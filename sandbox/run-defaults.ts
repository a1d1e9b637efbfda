// Per-agent defaults for `airlock run` (<home>/run-defaults.json): which placeholders an agent
// gets and under which names, what it may write, what is hidden. Saved with
// `airlock run --agent NAME --save-defaults [flags] -- ...`; flags given on a later run win.
// --no-sandbox is deliberately not savable: opting out of confinement is said each time.
import fs from 'node:fs';
import { openDocument } from '../state/document.ts';
import { stateFile } from '../state/home.ts';

export interface RunDefaults {
  secret?: string[];
  secrets?: boolean;
  hide?: string[];
  allowUnixSockets?: boolean;
  readOnly?: boolean;
  writable?: string[];
  writableSystem?: boolean;
  tokenTtl?: string;
}

export const savableKeys = ['secret', 'secrets', 'hide', 'allowUnixSockets', 'readOnly', 'writable', 'writableSystem', 'tokenTtl'] as const satisfies ReadonlyArray<keyof RunDefaults>;

interface RunDefaultsFile {
  version: 1;
  agents: Record<string, RunDefaults>;
}

export class RunDefaultsError extends Error {}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function check(file: string, agent: string, d: unknown): RunDefaults {
  const bad = (what: string): never => {
    throw new RunDefaultsError(`${file}: defaults of agent ${agent}: ${what}; fix or remove the entry`);
  };
  if (!d || typeof d !== 'object' || Array.isArray(d)) return bad('not an object');
  const r = d as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!(savableKeys as readonly string[]).includes(k)) bad(`unknown setting "${k}"`);
  for (const k of ['secret', 'hide', 'writable'] as const) if (r[k] !== undefined && !isStringList(r[k])) bad(`"${k}" must be a list of strings`);
  for (const k of ['secrets', 'allowUnixSockets', 'readOnly', 'writableSystem'] as const) if (r[k] !== undefined && typeof r[k] !== 'boolean') bad(`"${k}" must be true or false`);
  if (r.tokenTtl !== undefined && typeof r.tokenTtl !== 'string') bad('"tokenTtl" must be a string like "8h"');
  return r as RunDefaults;
}

async function open(home: string) {
  return openDocument<RunDefaultsFile>(stateFile(home, 'runDefaults'), { version: 1, agents: {} }, { mode: 0o600 });
}

export async function loadRunDefaults(home: string, agent: string): Promise<RunDefaults> {
  // Reading must not create the state folder or the file (a mistyped --home stays visible).
  if (!fs.existsSync(stateFile(home, 'runDefaults'))) return {};
  const doc = await open(home);
  const agents = doc.data.agents;
  if (!agents || typeof agents !== 'object') throw new RunDefaultsError(`${doc.file}: "agents" must be an object`);
  return Object.hasOwn(agents, agent) ? check(doc.file, agent, agents[agent]) : {};
}

/** Merges `values` into the agent's saved defaults; returns the file written. */
export async function saveRunDefaults(home: string, agent: string, values: RunDefaults): Promise<string> {
  const doc = await open(home);
  await doc.update((d) => {
    const merged = { ...(Object.hasOwn(d.agents, agent) ? d.agents[agent] : {}), ...values };
    d.agents[agent] = check(doc.file, agent, merged);
  });
  return doc.file;
}

/** Drops the agent's saved defaults; whether there were any. */
export async function forgetRunDefaults(home: string, agent: string): Promise<boolean> {
  if (!fs.existsSync(stateFile(home, 'runDefaults'))) return false;
  const doc = await open(home);
  if (!Object.hasOwn(doc.data.agents ?? {}, agent)) return false;
  await doc.update((d) => {
    delete d.agents[agent];
  });
  return true;
}
