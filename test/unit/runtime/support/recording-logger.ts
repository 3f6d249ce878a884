// A Logger that records entries (with inherited child bindings) so tests can assert on logs.
import type { LogFn, Logger } from "../../../../src/runtime/logger.ts";

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}): Logger & { entries: LogEntry[] } {
  const at =
    (level: LogEntry["level"]): LogFn =>
    (objOrMsg: Record<string, unknown> | string, msg?: string) => {
      if (typeof objOrMsg === "string") entries.push({ level, msg: objOrMsg, fields: { ...bindings } });
      else entries.push({ level, msg: msg ?? "", fields: { ...bindings, ...objOrMsg } });
    };
  return {
    entries,
    child: (more) => recordingLogger(entries, { ...bindings, ...more }),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}
