/**
 * Warnings shown once per process per distinct message, as Python's default warning filter does.
 *
 * @packageDocumentation
 */

const shown = new Set<string>();

/** Emits `message` as a process warning of `type`, unless this exact warning was emitted before. */
export function warnOnce(message: string, type = 'UserWarning'): void {
  const key = `${type}\0${message}`;
  if (shown.has(key)) return;
  shown.add(key);
  process.emitWarning(message, type);
}
