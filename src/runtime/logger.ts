// The logging surface the runtime needs. Shaped so a pino Logger is assignable to it, which lets
// main pass its root pino logger without an adapter while tests pass a recording logger.

export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export function createNoopLogger(): Logger {
  const noop: LogFn = () => {};
  const logger: Logger = { child: () => logger, debug: noop, info: noop, warn: noop, error: noop };
  return logger;
}
