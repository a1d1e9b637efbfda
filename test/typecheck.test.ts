// The whole tree type-checks under `strict`: part of `npm test`, so a type error fails CI.
// Uses the compiler API in-process (a spawned tsc would inherit tap's module hooks).
import t from 'tap';
import path from 'node:path';
import ts from 'typescript';

t.test('tsc --noEmit is clean', async (t) => {
  const configPath = path.resolve('tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  t.notOk(read.error, 'tsconfig.json reads');
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath));
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  const text = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  });
  t.ok(parsed.fileNames.length > 50, `checks the whole tree (${parsed.fileNames.length} files)`);
  t.equal(text, '', 'no type errors');
});
