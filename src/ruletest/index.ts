/** `vigil rules test`: the rule-test file format, its runner and its report. */
export { parseTestFile, DEFAULT_START, DEFAULT_INTERVAL_MS, type TestFile, type TestCase, type EvalCheck, type ExpectedAlert, type InlineLine } from './format.js';
export { runTestFile, runTest, type FileResult, type TestResult, type EvalFailure, type GotAlert } from './run.js';
export { formatFileResult } from './report.js';
