// Data-driven route tables: a service adapter is a list of documented request shapes
// ("PUT /repos/{owner}/{repo}/contents/{path+}") mapped to an operation and an effect.
// Matching works on the description's decoded path segments, so percent-encoding tricks
// (e.g. "%2F" or dot-segments) cannot dodge a route: the URL was normalized before we see it.
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { emptyMap, lookupTable } from '../../lib/records.ts';

export interface RouteSpec {
  /** "GET /repos/{owner}/{repo}"; several methods as "PUT|PATCH /x". `{name+}` captures the rest of the path. */
  route: string;
  operation: string;
  effect: Effect;
}

interface CompiledRoute {
  methods: Set<string>;
  parts: Array<{ literal: string } | { param: string } | { rest: string }>;
  operation: string;
  effect: Effect;
  /** Literal segment count: more literal routes win over more generic ones. */
  specificity: number;
  /** Ends in `{name+}`: matches this many segments or more; otherwise exactly `parts.length`. */
  rest: boolean;
}

export interface RouteMatch {
  operation: string;
  effect: Effect;
  params: Record<string, string>;
}

/** GET-like methods: HEAD and OPTIONS never change state, so they match a route's GET. */
const readAliases: Readonly<Record<string, string>> = lookupTable({ HEAD: 'GET', OPTIONS: 'GET' });

export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(specs: RouteSpec[], readonly prefix: string[] = []) {
    this.routes = specs.map(compile).sort((a, b) => b.specificity - a.specificity || Number(a.rest) - Number(b.rest));
  }

  /** The most specific route matching method and segments (segments already without the prefix). */
  match(method: string, segments: string[]): RouteMatch | undefined {
    const m = readAliases[method] ?? method;
    const n = segments.length;
    for (const r of this.routes) {
      // A route that cannot match this many segments is skipped before its parts are read.
      if (r.rest ? n < r.parts.length : n !== r.parts.length) continue;
      if (!r.methods.has(m)) continue;
      const params = matchParts(r.parts, segments);
      if (params) return { operation: r.operation, effect: r.effect, params };
    }
    return undefined;
  }
}

function compile(spec: RouteSpec): CompiledRoute {
  const [methods, path] = spec.route.split(' ');
  if (!methods || !path || !path.startsWith('/')) throw new Error(`bad route "${spec.route}"`);
  const parts = path.split('/').filter(Boolean).map((seg, i, all) => {
    const m = /^\{([a-z_]+)(\+)?\}$/.exec(seg);
    if (!m) return { literal: seg };
    if (m[2]) {
      if (i !== all.length - 1) throw new Error(`{${m[1]}+} must be last in "${spec.route}"`);
      return { rest: m[1]! };
    }
    return { param: m[1]! };
  });
  return {
    methods: new Set(methods.split('|')),
    parts,
    operation: spec.operation,
    effect: spec.effect,
    specificity: parts.filter((p) => 'literal' in p).length * 100 + parts.length,
    rest: parts.some((p) => 'rest' in p),
  };
}

function matchParts(parts: CompiledRoute['parts'], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = emptyMap();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if ('rest' in p) {
      if (i >= segments.length) return undefined;
      params[p.rest] = segments.slice(i).join('/');
      return params;
    }
    const seg = segments[i];
    if (seg === undefined) return undefined;
    if ('literal' in p) {
      if (seg !== p.literal) return undefined;
    } else {
      params[p.param] = seg;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

/** The effect of a request no route names: by HTTP method, failing closed for anything unusual. */
export function effectByMethod(method: string): Effect {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'DELETE') return 'delete';
  return 'write';
}

/** A request to a known host that no route names. */
export function unknownOperation(name: string, request: RequestInfo): ServiceInfo {
  return { name, operation: 'unknown', params: {}, effect: effectByMethod(request.method) };
}

/** Service info from a route table, falling back to the method's effect. */
export function fromTable(name: string, table: RouteTable, request: RequestInfo, segments = request.segments): ServiceInfo {
  const m = table.match(request.method, segments);
  if (!m) return unknownOperation(name, request);
  return { name, operation: m.operation, params: m.params, effect: m.effect };
}

/** A request body field (JSON or form), as a string if it is one. */
export function bodyField(request: RequestInfo, name: string): string | undefined {
  const json = request.body.json;
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const v = (json as Record<string, unknown>)[name];
    if (typeof v === 'string') return v;
  }
  const form = request.body.form?.[name]?.[0];
  return typeof form === 'string' ? form : undefined;
}

/** A JSON body as an object, or undefined. */
export function jsonObject(request: RequestInfo): Record<string, unknown> | undefined {
  const json = request.body.json;
  return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
}
