// The rule every compiled policy is built for and evaluated at: one constant that both compile.ts
// and the evaluation threads import, so the threads' code needs nothing else of the compiler.
export const ENTRYPOINT = 'airlock/decision';
