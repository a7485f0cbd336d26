// Waiting for a condition in tests, instead of sleeping and hoping. No
// dependencies and nothing Node-only: server suites and the web app's specs
// both use it.
export { eventually, EventuallyTimeoutError, type EventuallyOptions } from './eventually';
