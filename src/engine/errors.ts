/** Errors the UI and the CLI show to the user as one clear line. */
export class CamError extends Error {
  constructor(
    message: string,
    readonly code: string = 'cam-error',
  ) {
    super(message);
    this.name = 'CamError';
  }
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

export function abortError(): Error {
  const e = new Error('Cancelled');
  e.name = 'AbortError';
  return e;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError();
}
