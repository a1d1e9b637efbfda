// Packages a process may never need, loaded by their first use instead of at start. graphql (a
// GraphQL body), yaml (a policy's YAML data or its yaml builtins) and ajv (a config file, a
// decision contract) cost ~0.25 s of CPU together to load; most processes — every CLI command
// but a few, every Airlock that meets no GraphQL — never use some of them. Loaded through
// require (each has a CommonJS build) so the first use can stay synchronous.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The package `name`, loaded when the returned function is first called. */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
