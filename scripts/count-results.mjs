// Totals vitest's JSON reports (and the VM's per-file results for non-vitest checks) into the
// one line CI reads: "N passed, N failed". Exits 1 if any test failed or a suite has no report.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;

function addVitest(file) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // A file that failed to load (syntax error, failing afterAll leak check) has no failed test
  // but a failed suite.
  for (const suite of r.testResults ?? []) {
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) failed++;
  }
}

for (const project of ['unit', 'integration']) {
  const file = path.join(dir, `${project}.json`);
  if (fs.existsSync(file)) addVitest(file);
  else {
    console.log(`${project}: no report (the suite did not run)`);
    failed++;
  }
}

// The lint checks (scripts/test.sh): one line "PASS|FAIL <check>" each.
const lint = path.join(dir, 'lint');
if (fs.existsSync(lint)) {
  for (const line of fs.readFileSync(lint, 'utf8').split('\n').filter(Boolean)) {
    if (line.startsWith('PASS ')) passed++;
    else failed++;
  }
} else {
  console.log('lint: no results (the lint checks did not run)');
  failed++;
}

const vm = path.join(dir, 'vm');
if (fs.existsSync(vm)) {
  const jsonDir = path.join(vm, 'json');
  for (const f of fs.existsSync(jsonDir) ? fs.readdirSync(jsonDir) : []) addVitest(path.join(jsonDir, f));
  // Non-vitest checks (smoke.sh) and files whose JSON is missing count by their exit status.
  const results = fs.existsSync(path.join(vm, 'results')) ? fs.readFileSync(path.join(vm, 'results'), 'utf8') : '';
  for (const line of results.split('\n').filter(Boolean)) {
    const [verdict, , , name] = line.split(' ');
    if (name.endsWith('.test.ts') && fs.existsSync(path.join(jsonDir, `${path.basename(name)}.json`))) continue;
    if (verdict === 'PASS') passed++;
    else failed++;
  }
  if (!results) {
    console.log('vm: no results (the VM did not run to the end)');
    failed++;
  }
} else if (process.env.SKIP_VM !== '1') {
  console.log('vm: no results (the VM did not run)');
  failed++;
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
