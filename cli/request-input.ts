// What `airlock explain` and `airlock eval` decide: a request description as is, a request
// {method, url, headers?, body?} described as live traffic would be, or one case of a traffic test
// file. Both commands take the same files, so the README's req.json works with either.
import fs from 'node:fs';
import { loadTrafficTests, parseTrafficTests, prepareCase, prepareCases, TrafficTestFormatError, type TrafficTestFile } from '../offline/traffic-tests.ts';
import type { RequestDescription } from '../describe/types.ts';
import { dataFileProblems } from '../engine/data-files.ts';
import { CliError } from './errors.ts';

export const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A request description as is; a raw request ({method, url, headers, body, agent, time, grants}) described like live traffic. */
export async function requestInput(opts: { input: string; case?: string; agent: string; descriptionAsIs?: boolean }): Promise<RequestDescription> {
  let file: TrafficTestFile;
  if (opts.case !== undefined) {
    try {
      file = loadTrafficTests(opts.input);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  } else {
    let text: string;
    try {
      text = fs.readFileSync(opts.input === '-' ? 0 : opts.input, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read input ${opts.input}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Where, as a data file's error is said: file:line:col, not V8's "at position 48".
      const p = dataFileProblems('input.json', text)[0];
      throw new CliError(p ? `${opts.input === '-' ? 'stdin' : opts.input}:${p.line}:${p.column}: ${p.message}` : `input ${opts.input} is not valid JSON`);
    }
    if (!isObject(json)) throw new CliError(`input ${opts.input} must be a JSON object: a request description, or a request {method, url, headers?, body?}`);
    if (isObject(json.request) && typeof (json.request as Record<string, unknown>).host === 'string') return json as unknown as RequestDescription;
    if (typeof json.method !== 'string' || typeof json.url !== 'string') {
      // A description with a broken `request` is the policy's to judge (it fails closed): `eval` shows that.
      if (opts.descriptionAsIs && isObject(json.request)) return json as unknown as RequestDescription;
      throw new CliError(`input ${opts.input} is neither a request description (request.host) nor a request (method and url): e.g. {"method": "GET", "url": "https://api.github.com/repos/acme/app"}`);
    }
    try {
      file = parseTrafficTests(JSON.stringify({ agent: opts.agent, cases: [{ name: 'request', request: json, expect: { action: 'deny' } }] }), `${opts.input === '-' ? 'stdin' : opts.input}.json`);
    } catch (err) {
      throw new CliError(err instanceof TrafficTestFormatError ? err.message : String(err));
    }
  }
  const index = opts.case === undefined ? 0 : file.cases.findIndex((c) => c.name === opts.case);
  if (index < 0) throw new CliError(`${opts.input} has no case named ${JSON.stringify(opts.case)} (cases: ${file.cases.map((c) => c.name).slice(0, 10).join('; ')})`);
  await prepareCases();
  const prepared = prepareCase(file, file.cases[index]!, index);
  if (!prepared.ok) throw new CliError(prepared.error);
  return prepared.input;
}

