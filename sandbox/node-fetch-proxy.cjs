// Preloaded into every Node.js process an agent starts under `airlock run`
// (NODE_OPTIONS=--require <this file>), so Node's built-in fetch() goes through Airlock's proxy
// without changes to the agent. Node >= 24 and >= 22.21 do that themselves with
// NODE_USE_ENV_PROXY=1 (which airlock run sets too); older Node's fetch ignores the proxy
// variables and, in the sandbox, fails with EAI_AGAIN. For those this file installs undici's
// ProxyAgent as fetch's global dispatcher (the hook undici's setGlobalDispatcher uses, which Node's
// bundled fetch reads), from the proxy variables airlock run sets.
//
// Lazy: undici is loaded on the first fetch only, so Node processes that never fetch (npm's many
// child processes, build tools) pay nothing. A program that sets its own global dispatcher later
// replaces this one, as it would without Airlock. Plain CommonJS: it runs before any loader.
'use strict';

(function installAirlockFetchProxy() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 21)) return; // NODE_USE_ENV_PROXY covers fetch
  const key = Symbol.for('undici.globalDispatcher.1');
  if (globalThis[key]) return;
  const env = process.env;
  const proxy = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (!proxy) return;
  const undiciPath = __UNDICI_PATH__;
  const EventEmitter = require('node:events');
  let real;
  const agent = () => {
    if (!real) {
      const { ProxyAgent } = require(undiciPath);
      real = new ProxyAgent({ uri: proxy });
    }
    return real;
  };
  class AirlockProxyDispatcher extends EventEmitter {
    dispatch(opts, handler) {
      return agent().dispatch(opts, handler);
    }
    close(cb) {
      if (real) return real.close(cb);
      if (typeof cb === 'function') return void queueMicrotask(cb);
      return Promise.resolve();
    }
    destroy(err, cb) {
      if (real) return real.destroy(err, cb);
      const done = typeof err === 'function' ? err : cb;
      if (typeof done === 'function') return void queueMicrotask(done);
      return Promise.resolve();
    }
  }
  // The same property shape undici's setGlobalDispatcher defines, so it can replace it later.
  Object.defineProperty(globalThis, key, { value: new AirlockProxyDispatcher(), writable: true, enumerable: false, configurable: false });
})();
