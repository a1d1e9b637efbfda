// The decision contract as a JSON Schema. Whatever a policy returns is checked against it; anything
// that does not fit becomes a deny (see engine/engine.ts). Keeping the contract as data, not
// ad-hoc checks, means the README, the studio and the engine all agree on one definition.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { lazyPackage } from '../lib/lazy-package.ts';
import type { Decision } from './decision.ts';
import { lookupTable } from '../lib/records.ts';

const duration = {
  anyOf: [
    { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$' },
    { type: 'number', minimum: 0 },
  ],
};

/** A label: lower-case letters, digits and `_ . : -`, at most 64 characters. */
export const LABEL_PATTERN = '^[a-z0-9][a-z0-9_.:-]{0,63}$';

export const decisionSchema = {
  $id: 'https://airlock.dev/schemas/decision.json',
  type: 'object',
  additionalProperties: false,
  required: ['action', 'reason'],
  properties: {
    action: { enum: ['allow', 'deny', 'approve'] },
    reason: { type: 'string', minLength: 1, maxLength: 2000 },
    rule: { type: 'string', maxLength: 200 },
    credentials: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['secret', 'in'],
        properties: {
          secret: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
          in: { enum: ['header', 'query', 'basic', 'body'] },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          format: { type: 'string', maxLength: 500 },
        },
        // A header or query credential needs to know which header/parameter it goes in.
        if: { properties: { in: { enum: ['header', 'query'] } } },
        then: { required: ['name'] },
      },
    },
    rate_limits: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'limit', 'window'],
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 500 },
          limit: { type: 'number', exclusiveMinimum: 0 },
          window: duration,
          cost: { type: 'number', minimum: 0 },
          unit: { enum: ['requests', 'egress_bytes'] },
        },
      },
    },
    approval: {
      type: 'object',
      additionalProperties: false,
      required: ['risk'],
      properties: {
        risk: { enum: ['low', 'medium', 'high', 'critical'] },
        timeout: duration,
        step_up: { type: 'boolean' },
        because: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 200 } },
      },
    },
    raw_path: { type: 'boolean' },
    bare_headers: { type: 'boolean' },
    labels: { type: 'array', maxItems: 16, items: { type: 'string', pattern: LABEL_PATTERN } },
  },
} as const;

// strictRequired is off: the if/then below names a property declared one level up, which is valid JSON Schema.
// Compiled when an engine starts its threads (prepareDecisionContract) or at the first decision
// checked, not when the module loads: every command that imports the engine paid for it, deciding
// or not. ajv is loaded then too (lib/lazy-package.ts).
const ajv = lazyPackage<typeof import('ajv')>('ajv');
let compiled: ValidateFunction<Decision> | undefined;
const validator = (): ValidateFunction<Decision> => (compiled ??= new (ajv().Ajv)({ allErrors: true, strict: true, strictRequired: false }).compile<Decision>(decisionSchema));

/** Compiles the contract's validator now (~0.1 s of CPU), so that a running proxy's first decision does not wait for it. */
export function prepareDecisionContract(): void {
  validator();
}

export type ContractCheck = { ok: true; decision: Decision } | { ok: false; problems: string[] };

export function checkDecision(value: unknown): ContractCheck {
  const validate = validator();
  if (validate(value)) return { ok: true, decision: value };
  return { ok: false, problems: (validate.errors ?? []).map(describeError) };
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath || '(decision)';
  if (e.keyword === 'enum') return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'additionalProperties') return `${where} has unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

const unitMs: Readonly<Record<string, number>> = lookupTable({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 });

/**
 * Parses a contract duration ("1h30m", "250ms", or a number of seconds) to milliseconds; NaN for
 * text that is not one. Sticky matching from the start: one pass, no backtracking over digit runs.
 */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const part = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let at = 0;
  while (at < value.length) {
    part.lastIndex = at;
    const m = part.exec(value);
    if (!m) return Number.NaN;
    total += Number(m[1]) * unitMs[m[2]!]!;
    at = part.lastIndex;
  }
  return at === 0 ? Number.NaN : total;
}
