export { createLogger, type Logger, type LogLevel } from './create-logger';
export { serializeError } from './serialize-error';
