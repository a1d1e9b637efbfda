// Loads a compiled bundle into opa-wasm and evaluates it synchronously. This is the only module
// that touches the opa-wasm SDK, so its quirks are handled here once:
//  - the ESM entry exports only `loadPolicy`;
//  - a falsy input is treated as "no input" (we always pass a JSON buffer, never a bare value);
//  - errors are thrown as strings or plain objects, not Error instances (see errorText).
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { ENTRYPOINT, type CompiledPolicy } from './compile.ts';
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

export class UnsupportedBuiltinError extends Error {}

/** The parts of opa-wasm's LoadedPolicy the fast path uses (ABI >= 1.2). */
interface PolicyInternals {
  wasmInstance: WebAssembly.Instance;
  mem: WebAssembly.Memory;
  minorVersion: number;
  dataAddr: number;
  dataHeapPtr: number;
  entrypoints: Record<string, number>;
}

type OpaEval = (reserved: number, entrypoint: number, data: number, input: number, inputLen: number, heap: number, format: number) => number;

export class Evaluator {
  private now = 0;
  private readonly internals: PolicyInternals;
  private readonly opaEval: OpaEval | undefined;
  private readonly entrypoint: number;

  private constructor(
    private readonly policy: Awaited<ReturnType<typeof loadPolicy>>,
    readonly version: string,
  ) {
    this.internals = policy as unknown as PolicyInternals;
    const exp = this.internals.wasmInstance.exports as Record<string, unknown>;
    this.opaEval = this.internals.minorVersion >= 2 ? (exp.opa_eval as OpaEval) : undefined;
    this.entrypoint = this.internals.entrypoints[ENTRYPOINT] ?? 0;
  }

  static async load(compiled: Pick<CompiledPolicy, 'wasm' | 'data' | 'version'>, limits = defaultLimits): Promise<Evaluator> {
    let self: Evaluator | undefined;
    const builtins = makeBuiltins({ nowNs: () => self?.now ?? Date.now() * 1e6 });
    const maximum = Math.max(2, Math.floor(limits.memoryBytes / PAGE));
    const policy = await loadPolicy(compiled.wasm, { initial: Math.min(32, maximum), maximum }, builtins);
    // Refuse a bundle that needs a builtin nobody implements, at load time rather than per request.
    const needed = importedBuiltins(policy);
    const missing = needed.filter((name) => !(name in builtins) && !(name in builtinFuncs));
    if (missing.length) {
      throw new UnsupportedBuiltinError(`policy uses builtins that Airlock's WASM evaluator does not provide: ${missing.join(', ')}`);
    }
    policy.setData(compiled.data as object);
    self = new Evaluator(policy, compiled.version);
    return self;
  }

  /** Evaluates the entrypoint. `inputJson` is the serialized description; nowNs is the eval's clock. Throws on evaluation errors. */
  evaluate(inputJson: string, nowNs: number): unknown {
    this.now = nowNs;
    if (!this.opaEval) {
      const buf = encoder.encode(inputJson);
      return this.policy.evaluate(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), ENTRYPOINT);
    }
    // ABI 1.2 fast path, as opa-wasm's own evaluate does it but without its intermediate copies:
    // encode the input straight into linear memory above the data heap, then read the result text.
    const p = this.internals;
    const at = p.dataHeapPtr;
    const worstCase = inputJson.length * 3;
    const short = at + worstCase - p.mem.buffer.byteLength;
    if (short > 0) p.mem.grow(Math.ceil(short / PAGE)); // throws past the memory budget: fail closed
    const { written } = encoder.encodeInto(inputJson, new Uint8Array(p.mem.buffer, at, worstCase));
    const resultAddr = this.opaEval(0, this.entrypoint, p.dataAddr, at, written, at + written, 0);
    const bytes = new Uint8Array(p.mem.buffer);
    const end = bytes.indexOf(0, resultAddr);
    return JSON.parse(decoder.decode(bytes.subarray(resultAddr, end < 0 ? bytes.length : end)));
  }
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
