// Settings of a running Airlock: flags (options) win over <home>/config.json, which wins over the
// defaults. The file is checked against a JSON Schema (ajv) before anything reads it, so a wrong
// type is reported as that key in that file, never as a crash deep inside. Every resolved setting
// remembers where it came from, so a bad value is reported under the name the user wrote:
// `--proxy` for a flag, `config.json "proxy"` for the file.
import fs from 'node:fs';
import net from 'node:net';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { lazyPackage } from '../lib/lazy-package.ts';
import { defaultUpstreamTimeouts, type UpstreamTimeouts } from '../proxy/upstream-timeouts.ts';
import { AUDIT_AGENT_REFUSALS_PER_MINUTE } from '../proxy/audit-budget.ts';
import { stateFile } from '../state/home.ts';
import { emptyMap, lookupTable } from '../lib/records.ts';

export interface AirlockConfig {
  /** Policy folder. */
  policy: string;
  /** Proxy listen address host:port. */
  proxy: string;
  /** Studio listen address host:port, or false for no studio. */
  studio: string | false;
  /** --allow-private CIDR[:PORT] exceptions to destination safety. */
  allowPrivate: string[];
  /** Extra CA bundle files trusted for upstream TLS. */
  upstreamCa: string[];
  /** --resolve HOST[:PORT]=ADDR[:PORT] pins. */
  resolve: string[];
  /** Bytes of request body captured for the description. */
  bodyCap: number;
  /** Largest request head the proxy accepts (bytes). */
  maxHeaderSize: number;
  /** Refusals one agent may record one by one per minute; past it they are counted into summaries (proxy/audit-budget.ts). */
  auditRefusalsPerMinute: number;
  /** Wall-clock budget of one policy evaluation; past it the request is denied (fail closed). */
  evalTimeoutMs: number;
  /** URL that receives a JSON notification for every new approval (no secrets in it). */
  approvalWebhook?: string;
  /** Upstream connect / first-byte / idle budgets (ms). */
  upstreamTimeouts: UpstreamTimeouts;
  /**
   * Link provenance (docs/policies.md): "auto" records the links of responses only while the
   * loaded policy reads `request.provenance`; "on" always; "off" never (request.provenance absent).
   */
  provenance: 'auto' | 'on' | 'off';
  /** postgres://… : agents, secrets, approvals, TOTP, policy versions and the audit log in PostgreSQL (default: the state folder). */
  store?: string;
  /** redis://… : rate-limit and egress-byte buckets in Redis, shared exactly by every replica (default: the state folder). */
  limits?: string;
}

/** Whether the config names shared stores (PostgreSQL state, Redis limits): runtime/shared-services.ts opens them. */
export function usesSharedStores(config: Pick<AirlockConfig, 'store' | 'limits'>): boolean {
  return Boolean(config.store || config.limits);
}

export const defaultConfig: AirlockConfig = {
  policy: 'rego',
  proxy: '127.0.0.1:8080',
  studio: '127.0.0.1:8081',
  allowPrivate: [],
  upstreamCa: [],
  resolve: [],
  bodyCap: 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  auditRefusalsPerMinute: AUDIT_AGENT_REFUSALS_PER_MINUTE,
  // Policies decide in microseconds; the budget only stops a runaway one. It is wall-clock time,
  // so it is generous enough that a busy CPU does not turn ordinary decisions into denials.
  evalTimeoutMs: 1000,
  approvalWebhook: undefined,
  upstreamTimeouts: defaultUpstreamTimeouts,
  provenance: 'auto',
};

/** A duration as written by a user: "90s", "10m", "1h", "500ms", or a number of seconds. */
export type Duration = string | number;

/** Upstream timeouts as flags and config.json give them. */
export interface UpstreamTimeoutSettings {
  connect?: Duration;
  firstByte?: Duration;
  idle?: Duration;
}

/** The flags' view: every setting optional; timeouts as durations. */
export interface ConfigFlags extends Partial<Omit<AirlockConfig, 'upstreamTimeouts'>> {
  upstreamTimeouts?: UpstreamTimeoutSettings;
}

/** The flag each setting has (for messages about values given as flags). */
const flagNames: Readonly<Record<string, string>> = lookupTable({
  policy: '--policy', proxy: '--proxy', studio: '--studio', allowPrivate: '--allow-private', upstreamCa: '--upstream-ca',
  resolve: '--resolve', bodyCap: '--body-cap', maxHeaderSize: 'maxHeaderSize', auditRefusalsPerMinute: 'auditRefusalsPerMinute', evalTimeoutMs: 'evalTimeoutMs',
  approvalWebhook: 'approvalWebhook', provenance: 'provenance', store: '--store', limits: '--limits', 'upstreamTimeouts.connect': '--upstream-connect-timeout',
  'upstreamTimeouts.firstByte': '--upstream-first-byte-timeout', 'upstreamTimeouts.idle': '--upstream-idle-timeout',
});

const duration = {
  description: 'a duration: "90s", "10m", "1h", "500ms", or a number of seconds; 0 = no limit',
  oneOf: [{ type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$' }, { type: 'number', minimum: 0 }],
};

/** The schema of <home>/config.json. Descriptions are part of error messages. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policy: { type: 'string', minLength: 1, description: 'the policy folder, e.g. "rego"' },
    proxy: { type: 'string', minLength: 1, description: 'HOST:PORT the proxy listens on, e.g. "127.0.0.1:8080"' },
    studio: { type: ['string', 'boolean'], not: { const: true }, description: 'HOST:PORT of the studio, or false for none' },
    allowPrivate: { type: 'array', items: { type: 'string' }, description: 'a list of CIDR[:PORT] strings, e.g. ["10.1.0.0/16:8443"]' },
    upstreamCa: { type: 'array', items: { type: 'string' }, description: 'a list of PEM certificate files, e.g. ["corp-ca.pem"]' },
    resolve: { type: 'array', items: { type: 'string' }, description: 'a list of HOST[:PORT]=ADDR[:PORT] strings, e.g. ["api.internal=10.1.2.3"]' },
    bodyCap: { type: 'integer', minimum: 0, description: 'a number of bytes' },
    maxHeaderSize: { type: 'integer', minimum: 1024, maximum: 1048576, description: 'a number of bytes (1024 to 1048576)' },
    auditRefusalsPerMinute: { type: 'integer', minimum: 1, description: 'a number of audit records a minute' },
    evalTimeoutMs: { type: 'integer', minimum: 1, description: 'milliseconds' },
    approvalWebhook: { type: 'string', description: 'an http(s) URL' },
    provenance: { enum: ['auto', 'on', 'off'], description: '"auto" (links recorded while the policy reads request.provenance), "on" or "off"' },
    store: { type: 'string', pattern: '^postgres(ql)?://', description: 'a PostgreSQL URL, e.g. "postgres://airlock@db.internal/airlock" (docs/deploy.md)' },
    limits: { type: 'string', pattern: '^rediss?://', description: 'a Redis URL, e.g. "redis://redis.internal:6379" (docs/deploy.md)' },
    upstreamTimeouts: {
      type: 'object',
      additionalProperties: false,
      description: '{"connect": "10s", "firstByte": "10m", "idle": "10m"}',
      properties: { connect: duration, firstByte: duration, idle: duration },
    },
  },
} as const;

// Compiled when a config file is first checked, not when this module loads: every command imports
// it, and compiling the schema cost each `airlock` process ~0.15 s of CPU whether a file was there or not.
/** ajv, loaded by the first check (lib/lazy-package.ts). */
const ajv = lazyPackage<typeof import('ajv')>('ajv');
let compiled: ValidateFunction | undefined;
const fileValidator = (): ValidateFunction => (compiled ??= new (ajv().Ajv)({ allErrors: true, strict: true, allowUnionTypes: true }).compile(configSchema));

export class ConfigError extends Error {}

/** `upstreamTimeouts.firstByte` from an ajv instance path. */
function keyOf(instancePath: string): string {
  return instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function schemaDescription(key: string): string | undefined {
  let node: { properties?: Record<string, unknown>; description?: string } = configSchema as never;
  for (const part of key.replace(/\[\d+\]/g, '').split('.')) {
    node = (node.properties?.[part] ?? {}) as typeof node;
  }
  return node.description;
}

function explain(file: string, e: ErrorObject): string {
  if (e.keyword === 'additionalProperty' || e.keyword === 'additionalProperties') {
    const parent = keyOf(e.instancePath);
    const name = (e.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys(parent ? (configSchema.properties as Record<string, { properties?: object }>)[parent]?.properties ?? {} : configSchema.properties);
    return `${file}: unknown setting "${parent ? `${parent}.` : ''}${name}" (known: ${known.join(', ')})`;
  }
  const key = keyOf(e.instancePath);
  if (!key) return `${file} must hold a JSON object`;
  const top = key.replace(/\[\d+\]$/, '');
  const want = schemaDescription(top);
  const message = e.keyword === 'oneOf' || e.keyword === 'type' || e.keyword === 'pattern' || e.keyword === 'not' ? 'has the wrong type or form' : e.message ?? 'is invalid';
  return `${file}: "${key}" ${message}${want ? `: expected ${want}` : ''}`;
}

/** Reads and checks <home>/config.json; {} when there is none. */
export function readConfigFile(home: string): Partial<Record<keyof AirlockConfig, unknown>> & { upstreamTimeouts?: UpstreamTimeoutSettings } {
  const file = configFile(home);
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  const validateFile = fileValidator();
  if (!validateFile(parsed)) {
    // One line per problem, the unknown-key ones first (a typo explains the rest).
    const errors = (validateFile.errors ?? []).filter((e) => e.keyword !== 'oneOf' || !(validateFile.errors ?? []).some((o) => o !== e && o.instancePath === e.instancePath && o.keyword !== 'oneOf'));
    const lines = [...new Set(errors.map((e) => explain(file, e)))].sort((a, b) => Number(b.includes('unknown setting')) - Number(a.includes('unknown setting')));
    throw new ConfigError(lines.join('\n'));
  }
  return parsed as ReturnType<typeof readConfigFile>;
}

export function configFile(home: string): string {
  return stateFile(home, 'config');
}

/** Milliseconds of a duration; throws a message without the setting's name. */
export function durationMs(value: Duration): number {
  if (typeof value === 'number') {
    if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`${value}: expected a duration such as 90s, 10m or 1h`);
    return Math.round(value * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!m) throw new Error(`${JSON.stringify(value)}: expected a duration such as 90s, 10m or 1h (0 = no limit)`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

/** A resolved configuration, plus where each setting came from (for messages). */
export type ResolvedConfig = AirlockConfig & { readonly origin: Readonly<Record<string, string>> };

/** Merges flags over the config file over defaults. */
export function resolveConfig(home: string, flags: ConfigFlags): ResolvedConfig {
  const file = readConfigFile(home);
  const fileName = configFile(home);
  const origin: Record<string, string> = emptyMap();
  const pick = <K extends keyof AirlockConfig>(k: K, flag: unknown): AirlockConfig[K] => {
    const isEmptyList = Array.isArray(flag) && flag.length === 0;
    if (flag !== undefined && !isEmptyList) {
      origin[k] = flagNames[k] ?? k;
      return flag as AirlockConfig[K];
    }
    if (file[k] !== undefined) {
      origin[k] = `${fileName}: "${k}":`;
      return file[k] as AirlockConfig[K];
    }
    origin[k] = flagNames[k] ?? k;
    return defaultConfig[k];
  };
  const timeouts: UpstreamTimeouts = { ...defaultConfig.upstreamTimeouts };
  for (const [k, field] of [['connect', 'connectMs'], ['firstByte', 'firstByteMs'], ['idle', 'idleMs']] as const) {
    const key = `upstreamTimeouts.${k}`;
    const fromFlag = flags.upstreamTimeouts?.[k];
    const fromFile = file.upstreamTimeouts?.[k];
    const value = fromFlag ?? fromFile;
    origin[key] = fromFlag !== undefined || fromFile === undefined ? flagNames[key]! : `${fileName}: "${key}":`;
    if (value === undefined) continue;
    timeouts[field] = inSetting(origin, key, () => durationMs(value));
  }
  const config: AirlockConfig = {
    policy: pick('policy', flags.policy),
    proxy: pick('proxy', flags.proxy),
    studio: pick('studio', flags.studio),
    allowPrivate: pick('allowPrivate', flags.allowPrivate),
    upstreamCa: pick('upstreamCa', flags.upstreamCa),
    resolve: pick('resolve', flags.resolve),
    bodyCap: pick('bodyCap', flags.bodyCap),
    maxHeaderSize: pick('maxHeaderSize', flags.maxHeaderSize),
    auditRefusalsPerMinute: pick('auditRefusalsPerMinute', flags.auditRefusalsPerMinute),
    evalTimeoutMs: pick('evalTimeoutMs', flags.evalTimeoutMs),
    upstreamTimeouts: timeouts,
    provenance: pick('provenance', flags.provenance),
    ...(file.approvalWebhook !== undefined || flags.approvalWebhook !== undefined ? { approvalWebhook: pick('approvalWebhook', flags.approvalWebhook) } : {}),
  };
  // The shared stores: a flag, else config.json, else the environment (AIRLOCK_STORE, AIRLOCK_LIMITS).
  for (const [k, env] of [['store', 'AIRLOCK_STORE'], ['limits', 'AIRLOCK_LIMITS']] as const) {
    const value = pick(k, flags[k]) ?? (process.env[env] || undefined);
    if (value === undefined) continue;
    if (flags[k] === undefined && file[k] === undefined) origin[k] = env;
    const want = k === 'store' ? /^postgres(ql)?:\/\//i : /^rediss?:\/\//i;
    if (!want.test(value)) throw new ConfigError(`${origin[k]} ${k === 'store' ? 'must be a postgres:// URL' : 'must be a redis:// URL'} (got ${JSON.stringify(value.replace(/\/\/[^@/]*@/, '//…@'))})`);
    config[k] = value;
  }
  return Object.assign(config, { origin });
}

/**
 * Runs a parser of one setting's value and reports its failure under the setting's own name:
 * parsers word their errors for flags (`--allow-private X: …`); a value from config.json is then
 * named as that file's key instead.
 */
export function inSetting<T>(origin: Readonly<Record<string, string>>, key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const name = origin[key] ?? flagNames[key] ?? key;
    const message = (err as Error).message.replace(/^--[a-z-]+ /, '');
    throw new ConfigError(`${name} ${message}`);
  }
}

/** What the usual wrong spellings of a listen address were meant to be. */
function listenHint(spec: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]+)\/?$/i.exec(spec);
  if (url) return ` (a listen address, not a URL: ${url[1]})`;
  if (/^\d{1,5}$/.test(spec)) return ` (a port alone is :${spec}, on 127.0.0.1)`;
  const at = spec.lastIndexOf(':');
  if (net.isIPv6(spec.slice(0, at)) && /^\d{1,5}$/.test(spec.slice(at + 1))) return ` (an IPv6 address goes in brackets: [${spec.slice(0, at)}]${spec.slice(at)})`;
  if (net.isIPv6(spec)) return ` (an IPv6 address goes in brackets, then the port: [${spec}]:8080)`;
  if (spec && !spec.includes(':')) return ` (add the port: ${spec}:8080, or :0 for any free one)`;
  return ', e.g. 127.0.0.1:8080, [::1]:8080 or :8080';
}

/** A listen address as `airlock start` takes it: HOST:PORT, [IPv6]:PORT, or :PORT for 127.0.0.1. */
export function parseHostPort(spec: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) throw new Error(`${what} ${spec}: expected HOST:PORT${listenHint(spec.trim())}`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${what} ${spec}: bad port`);
  return { host, port };
}
