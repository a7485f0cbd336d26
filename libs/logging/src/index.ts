export { createLogger, type Logger, type LogLevel } from './create-logger';
