/**
 * What can go wrong between the bridge and Home Assistant, as codes a caller can switch
 * on: `auth_invalid` is final (HA refused the token: retrying would only be refused
 * again), the others pass.
 */
export type HaErrorCode =
  | 'auth_invalid'
  | 'timeout'
  | 'unreachable'
  | 'connection_lost'
  | 'not_connected'
  /** HA answered `result` with `success: false`; `haCode` holds HA's own code. */
  | 'failed';

export class HaError extends Error {
  readonly code: HaErrorCode;
  /** HA's error code on a failed result (`not_found`, `service_validation_error`, …). */
  readonly haCode: string | undefined;

  constructor(code: HaErrorCode, message: string, haCode?: string) {
    super(message);
    this.name = 'HaError';
    this.code = code;
    this.haCode = haCode;
  }

  get retryable(): boolean {
    return this.code !== 'auth_invalid' && this.code !== 'failed';
  }
}

/** HA's `{code, message}` of a failed result (or anything else thrown) as an HaError. */
export function haFailure(err: unknown): HaError {
  if (err instanceof HaError) return err;
  // The library rejects in-flight calls of a closed socket with a whole result message.
  if (err && typeof err === 'object' && 'error' in err && !('code' in err)) {
    return haFailure(err.error);
  }
  if (err && typeof err === 'object' && 'code' in err) {
    const { code, message } = err as { code: unknown; message?: unknown };
    // home-assistant-js-websocket rejects with its own numbers: 3 is "connection lost".
    if (code === 3)
      return new HaError('connection_lost', 'the connection to Home Assistant was lost');
    const text = typeof message === 'string' ? message : 'no message';
    return new HaError('failed', `Home Assistant answered ${String(code)}: ${text}`, String(code));
  }
  if (err === 3) return new HaError('connection_lost', 'the connection to Home Assistant was lost');
  return new HaError('failed', err instanceof Error ? err.message : String(err));
}
