// A second reporter for node's test runner (scripts/run-tests.mjs adds it beside TAP): it prints
// nothing while the tests run and, at the end, one block naming every failed test with its file,
// its parents and the first lines of its error. CI logs are often read from their tail; with TAP
// alone a failure 20 minutes into the run is thousands of lines above it.
const MAX_ERROR_LINES = 12;

function firstLines(error) {
  if (error === undefined || error === null) return ['(no error recorded)'];
  const cause = error.cause ?? error;
  const text =
    typeof cause === 'object' && cause !== null && 'stack' in cause && typeof cause.stack === 'string'
      ? cause.stack
      : String(cause?.message ?? cause);
  // Node's own frames say nothing about the failure.
  const lines = text.split('\n').filter((line) => !/\(node:|at node:|<anonymous>\)?$/.test(line));
  return lines.slice(0, MAX_ERROR_LINES);
}

export default async function* failuresReporter(source) {
  /** names of the tests and suites that are open, by nesting level */
  const path = [];
  const failures = [];
  for await (const event of source) {
    if (event.type === 'test:start') {
      path[event.data.nesting] = event.data.name;
      path.length = event.data.nesting + 1;
    } else if (event.type === 'test:fail') {
      const error = event.data.details?.error;
      // A suite whose children failed fails too; its children are listed themselves.
      if (error?.failureType === 'subtestsFailed') continue;
      const parents = path.slice(0, event.data.nesting).filter((name) => name !== undefined);
      failures.push({
        file: event.data.file ?? '(unknown file)',
        name: [...parents, event.data.name].join(' › '),
        lines: firstLines(error),
      });
    }
  }
  if (failures.length === 0) {
    yield '\n=== failed tests: none\n';
    return;
  }
  let out = `\n=== failed tests: ${failures.length}\n`;
  for (const failure of failures) {
    out += `--- ${failure.file}\n    ${failure.name}\n`;
    for (const line of failure.lines) out += `      ${line}\n`;
  }
  yield out;
}
