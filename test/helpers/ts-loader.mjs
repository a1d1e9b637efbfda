// `--import` target of every test process (package.json "tap" → "node-arg"): registers the
// TypeScript hooks of ts-hooks.mjs.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
