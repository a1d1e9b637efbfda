// Loaded into every test process (package.json "tap" → "node-arg"). tap's processinfo plugin
// puts its module hooks into every process a test spawns, through NODE_OPTIONS: each `airlock`
// command, `airlock start`, sandboxed agent and tool a test runs then loads tap's hooks first,
// about twice the CPU of the process on its own (coverage is off here, so nothing reads what
// they record). Children start as a user's would: without tap's hooks and variables.
const hooks = /"?--(?:import|loader|require)[= ]"?[^"\s]*@tapjs[/\\]processinfo[^"\s]*"?/g;

function plain(env) {
  if (typeof env.NODE_OPTIONS === 'string') {
    const rest = env.NODE_OPTIONS.replace(hooks, '').replace(/\s+/g, ' ').trim();
    if (rest) env.NODE_OPTIONS = rest;
    else delete env.NODE_OPTIONS;
  }
  for (const k of Object.keys(env)) if (k.startsWith('_TAPJS_PROCESSINFO_')) delete env[k];
  return env;
}

plain(process.env);
// The spawn hook processinfo registered (process-on-spawn keeps its listeners in this global):
// one more listener after it takes back what it adds.
const state = globalThis[Symbol.for('process-on-spawn@*:singletonId')];
if (state && Array.isArray(state.listeners)) {
  state.listeners.push((opts) => {
    opts.env = plain({ ...opts.env });
  });
}
