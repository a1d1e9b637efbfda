// How the studio evaluates policies it did not publish (drafts, and the live policy side by side):
// in an evaluation thread with a deadline, never inline. The studio shares its process with the
// proxy, and WASM cannot be interrupted on the main thread: an inline evaluation of a pathological
// draft would stall every agent's traffic. The budget is replay's (offline decisions must not
// depend on how busy the machine is).
import { PolicyEngine } from '../engine/engine.ts';
import { replayBudgetMs } from '../offline/replay.ts';

export function draftEngine(): PolicyEngine {
  return new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: replayBudgetMs });
}
