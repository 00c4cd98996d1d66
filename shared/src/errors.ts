/**
 * Errors that cross a boundary (socket, data channel, worker) travel as data:
 * a stable `code` and a human message. Codes are part of the protocol.
 */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** An Error carrying a stable code, for use inside one runtime. */
export class PeerGridError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'PeerGridError';
    this.code = code;
  }
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export function toWireError(err: unknown, fallbackCode = 'internal'): WireError {
  if (err instanceof PeerGridError) return err.toWire();
  if (err instanceof Error) return { code: fallbackCode, message: err.message };
  return { code: fallbackCode, message: String(err) };
}
