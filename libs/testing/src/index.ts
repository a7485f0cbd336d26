// Test harness for integration and end-to-end suites: start the built apps as
// real child processes, wait for them to be ready, stop or kill them.
export { ServiceProcess, type ServiceProcessOptions } from './service-process';
export { freePort } from './free-port';
export { workspaceRoot, builtAppEntry } from './workspace-paths';
export { SignalingClient, type ServerFrameCase, type ServerFrameValue } from './signaling-client';
