// A problem found in a policy folder, pointing at its place: what the compiler and the data-file
// checks both report, so the CLI prints `file:line:col: message` and the studio marks the line.
export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  code?: string;
}
