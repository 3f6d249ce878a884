// controller-runtime's SetupSignalHandler: the first SIGTERM/SIGINT starts a graceful shutdown,
// a second one exits at once (an operator stuck draining must still be killable from a terminal).
import type { Logger } from "./logger.ts";

export type TerminationSignal = "SIGTERM" | "SIGINT";

/** The part of `process` this needs; tests pass an EventEmitter. */
export interface SignalSource {
  on(event: TerminationSignal, listener: () => void): unknown;
  off(event: TerminationSignal, listener: () => void): unknown;
}

export interface ShutdownSignalOptions {
  source?: SignalSource;
  /** Default: process.exit(1). */
  onSecondSignal?: (signal: TerminationSignal) => void;
  /** A logger, or a getter for one that exists only later (signals are caught before it is built). */
  logger?: Logger | (() => Logger | undefined);
}

export interface ShutdownSignal {
  /** Aborted on the first SIGTERM or SIGINT. */
  signal: AbortSignal;
  /** Removes the listeners (tests, or handing signals back). */
  dispose(): void;
}

export function shutdownSignal(options: ShutdownSignalOptions = {}): ShutdownSignal {
  const source = options.source ?? process;
  const onSecond = options.onSecondSignal ?? ((): never => process.exit(1));
  const log = (): Logger | undefined => (typeof options.logger === "function" ? options.logger() : options.logger);
  const controller = new AbortController();
  const handlers = new Map<TerminationSignal, () => void>();
  for (const name of ["SIGTERM", "SIGINT"] as const) {
    const handler = (): void => {
      if (!controller.signal.aborted) {
        log()?.info({ signal: name }, "Received termination signal; shutting down gracefully");
        controller.abort(new Error(`received ${name}`));
      } else {
        log()?.warn({ signal: name }, "Received second termination signal; exiting immediately");
        onSecond(name);
      }
    };
    handlers.set(name, handler);
    source.on(name, handler);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}
