// Adds up the Jest JSON reports of every suite the test command ran and prints
// one plain line, `N passed, N failed`, which CI reads. Steps that failed
// before any test could run (a build, lint) are passed in as extra failures.
// Usage: node tools/test/summarize.mjs <extra-failures> <report.json>...
import { existsSync, readFileSync } from 'node:fs';

const [extraFailures, ...reports] = process.argv.slice(2);
let passed = 0;
let failed = Number(extraFailures) || 0;
for (const file of reports) {
  if (!existsSync(file)) {
    console.log(`(no report: ${file} — counted as 1 failed)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  // A suite that failed to load (syntax error, missing module) has no failed
  // tests but is still a failure.
  failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  console.log(
    `${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed` +
      (report.numRuntimeErrorTestSuites
        ? `, ${report.numRuntimeErrorTestSuites} suites failed to run`
        : ''),
  );
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
