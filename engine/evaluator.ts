// Loads a compiled bundle into opa-wasm and evaluates it synchronously. This is the only module
// that touches the opa-wasm SDK, so its quirks are handled here once:
//  - the ESM entry names only `loadPolicy`; `loadPolicySync` is on its default export;
//  - a falsy input is treated as "no input" (we always pass a JSON buffer, never a bare value);
//  - errors are thrown as strings or plain objects, not Error instances (see errorText).
import * as opaWasm from '@open-policy-agent/opa-wasm';
import type { CompiledPolicy } from './compile.ts';
import { ENTRYPOINT } from './entrypoint.ts';
import { makeBuiltins } from './builtins.ts';
import { builtinFuncs } from './opa-wasm-builtins.ts';

export interface EvaluatorLimits {
  /** Upper bound of the policy's linear memory, in bytes. */
  memoryBytes: number;
}

export const defaultLimits: EvaluatorLimits = { memoryBytes: 128 * 1024 * 1024 };

const PAGE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const { loadPolicy } = opaWasm;
// At run time loadPolicySync is only on the ESM entry's default export (its types name it directly).
const { loadPolicySync } = (opaWasm as unknown as { default: Pick<typeof opaWasm, 'loadPolicySync'> }).default;

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

export class UnsupportedBuiltinError extends Error {
  constructor(message: string, readonly names: string[] = []) {
    super(message);
  }
}

/** The parts of opa-wasm's LoadedPolicy this module drives directly. */
interface PolicyInternals {
  wasmInstance: WebAssembly.Instance;
  mem: WebAssembly.Memory;
  dataAddr: number;
  dataHeapPtr: number;
  entrypoints: Record<string, number>;
}

/** The policy module's exports used per evaluation (present in every ABI 1.x module). */
interface OpaExports {
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(addr: number): void;
  opa_malloc(bytes: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_eval_ctx_new(): number;
  opa_eval_ctx_set_input(ctx: number, value: number): void;
  opa_eval_ctx_set_data(ctx: number, value: number): void;
  opa_eval_ctx_set_entrypoint(ctx: number, entrypoint: number): void;
  eval(ctx: number): number;
  opa_eval_ctx_get_result(ctx: number): number;
  opa_json_dump(value: number): number;
}

/**
 * How much heap evaluations may leave behind before it is reset. opa-wasm resets the heap before
 * every evaluation, and the reset also drops OPA's compiled-regex and glob caches, so a policy
 * calling regex.match recompiles its pattern (~20 µs) on every request. Resetting only once this
 * much has accumulated keeps those caches warm; evaluations are pure, so reusing the heap changes
 * no result, and an evaluation that fails on a used heap is retried once on a fresh one so that
 * leftovers can never turn into a memory-budget denial.
 */
export const HEAP_RESET_BYTES = 2 * 1024 * 1024;

export class Evaluator {
  private now = 0;
  private readonly internals: PolicyInternals;
  private readonly opa: OpaExports;
  private readonly entrypoint: number;
  private evalsSinceReset = 0;
  /** Never more than a quarter of the memory budget, so leftovers rarely crowd a real evaluation. */
  private readonly resetAfterBytes: number;

  private constructor(
    policy: LoadedPolicy,
    readonly version: string,
    limits: EvaluatorLimits,
  ) {
    this.resetAfterBytes = Math.min(HEAP_RESET_BYTES, limits.memoryBytes / 4);
    this.internals = policy as unknown as PolicyInternals;
    this.opa = this.internals.wasmInstance.exports as unknown as OpaExports;
    this.entrypoint = this.internals.entrypoints[ENTRYPOINT] ?? 0;
    this.resetHeap();
  }

  static async load(compiled: Pick<CompiledPolicy, 'wasm' | 'data' | 'version'>, limits = defaultLimits): Promise<Evaluator> {
    const { memory, builtins, bind } = Evaluator.setup(limits);
    return bind(await loadPolicy(compiled.wasm, memory, builtins), compiled);
  }

  /**
   * As load, synchronously (WebAssembly compiles lazily, so this is quick): what an evaluation
   * thread uses, as it never returns to its event loop.
   */
  static loadSync(compiled: Pick<CompiledPolicy, 'wasm' | 'data' | 'version'>, limits = defaultLimits): Evaluator {
    const { memory, builtins, bind } = Evaluator.setup(limits);
    return bind(loadPolicySync(compiled.wasm, memory, builtins), compiled);
  }

  private static setup(limits: EvaluatorLimits) {
    let self: Evaluator | undefined;
    const builtins = makeBuiltins({ nowNs: () => self?.now ?? Date.now() * 1e6 });
    const maximum = Math.max(2, Math.floor(limits.memoryBytes / PAGE));
    const bind = (policy: LoadedPolicy, compiled: Pick<CompiledPolicy, 'data' | 'version'>): Evaluator => {
      // Refuse a bundle that needs a builtin nobody implements, at load time rather than per request.
      const needed = importedBuiltins(policy);
      const missing = needed.filter((name) => !(name in builtins) && !(name in builtinFuncs));
      if (missing.length) throw new UnsupportedBuiltinError(`policy uses builtins that Airlock's WASM evaluator does not provide: ${missing.map(unsupportedWhy).join('; ')} (docs/policies.md lists those it does)`, missing);
      policy.setData(compiled.data as object);
      self = new Evaluator(policy, compiled.version, limits);
      return self;
    };
    return { memory: { initial: Math.min(32, maximum), maximum }, builtins, bind };
  }

  /**
   * Evaluates the entrypoint and returns the result set as JSON text (interpret.ts parses it).
   * `inputJson` is the serialized description; nowNs is the eval's clock. Throws on evaluation errors.
   */
  evaluate(inputJson: string, nowNs: number): string {
    this.now = nowNs;
    if (this.opa.opa_heap_ptr_get() - this.internals.dataHeapPtr > this.resetAfterBytes) this.resetHeap();
    const onUsedHeap = this.evalsSinceReset > 0;
    this.evalsSinceReset++;
    try {
      return this.evaluateOnce(inputJson);
    } catch (err) {
      if (!onUsedHeap) throw err;
      this.resetHeap();
      this.evalsSinceReset++;
      return this.evaluateOnce(inputJson);
    }
  }

  /** Same steps as opa-wasm's evaluate, minus its heap reset and intermediate copies. */
  private evaluateOnce(inputJson: string): string {
    const { opa, internals: p } = this;
    const len = Buffer.byteLength(inputJson, 'utf8');
    const at = opa.opa_malloc(len); // grows memory as needed; aborts (throws) past the memory budget
    encoder.encodeInto(inputJson, new Uint8Array(p.mem.buffer, at, len));
    const input = opa.opa_json_parse(at, len);
    if (input === 0) throw new Error('the request description is not valid JSON');
    const ctx = opa.opa_eval_ctx_new();
    opa.opa_eval_ctx_set_input(ctx, input);
    opa.opa_eval_ctx_set_data(ctx, p.dataAddr);
    opa.opa_eval_ctx_set_entrypoint(ctx, this.entrypoint);
    opa.eval(ctx);
    const resultAddr = opa.opa_json_dump(opa.opa_eval_ctx_get_result(ctx));
    const bytes = new Uint8Array(p.mem.buffer);
    const end = bytes.indexOf(0, resultAddr);
    return decoder.decode(bytes.subarray(resultAddr, end < 0 ? bytes.length : end));
  }

  /** Size of the policy's linear memory; it only grows, up to the memory budget. */
  get linearMemoryBytes(): number {
    return this.internals.mem.buffer.byteLength;
  }

  private resetHeap(): void {
    this.opa.opa_heap_ptr_set(this.internals.dataHeapPtr);
    this.evalsSinceReset = 0;
  }
}

// Builtins left out on purpose, and why (a policy author reads this in the load error).
const NETWORK = new Set(['http.send', 'net.lookup_ip_addr', 'providers.aws.sign_req']);
const SETS = new Set(['net.cidr_expand', 'net.cidr_merge', 'net.cidr_contains_matches', 'graph.reachable_paths', 'object.subset']);

function unsupportedWhy(name: string): string {
  if (NETWORK.has(name)) return `${name} (a decision reaches no other host: what it answered would decide, and the call would leave unchecked)`;
  if (SETS.has(name)) return `${name} (it takes or gives sets, which reach JavaScript as arrays)`;
  return name;
}

/** Names of the builtins the compiled module imports (opa-wasm keeps this map private). */
function importedBuiltins(policy: unknown): string[] {
  const p = policy as { wasmInstance: WebAssembly.Instance; mem: WebAssembly.Memory };
  const exports = p.wasmInstance.exports as Record<string, (...args: number[]) => number>;
  const addr = exports.opa_json_dump!(exports.builtins!());
  const bytes = new Uint8Array(p.mem.buffer);
  let end = addr;
  while (bytes[end] !== 0 && end < bytes.length) end++;
  return Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(addr, end))) as Record<string, number>);
}

/** opa-wasm throws strings and plain objects; turn anything into readable text. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
