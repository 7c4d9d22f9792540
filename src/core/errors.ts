/** Error codes a caller can switch on. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'MQTT_CONNECT'
  | 'MQTT_PROTOCOL'
  | 'MQTT_NOT_CONNECTED'
  | 'BROKER_LISTEN'
  | 'BAD_PAYLOAD'
  | 'TIMEOUT'
  | 'INTERNAL'
  | 'ENGINE_UNREACHABLE'
  | 'ENGINE_BAD_OUTPUT'
  | 'ENGINE_COMMAND_FAILED'
  | 'SSH_CONNECT'
  | 'SSH_HOST_KEY'
  | 'SSH_DISCONNECTED'
  | 'HTTP_LISTEN';

/** An outpost error: a stable code, and whether retrying may help. */
export class OutpostError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OutpostError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** The message of anything thrown, for logs and error answers. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
