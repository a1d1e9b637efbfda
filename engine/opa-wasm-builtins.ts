// The builtins opa-wasm implements in JavaScript. Its package exports do not expose them, so we
// load the file beside its entry point. Used only to tell which builtins a bundle may import.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const sdkDir = path.dirname(require.resolve('@open-policy-agent/opa-wasm'));
export const builtinFuncs: Record<string, unknown> = require(path.join(sdkDir, 'builtins', 'index.js'));

// The SDK calls its own builtin before a custom one of the same name, and its `regex.split` is
// JavaScript's, not OPA's (go-regexp.ts): taken out of its table (the one object it consults, a
// package outside every bundle), so Airlock's RE2 version (builtins.ts) is the one called.
delete builtinFuncs['regex.split'];
// Likewise its `sprintf` (sprintf-js: C's printf on JavaScript values) for Go's fmt (go-sprintf.ts).
delete builtinFuncs.sprintf;
// And its YAML reading (the `yaml` 1.x package, YAML 1.2) for go-yaml v3's as OPA uses it (go-yaml.ts).
delete builtinFuncs['yaml.unmarshal'];
delete builtinFuncs['yaml.is_valid'];
