// One error type per failure kind, each with its HTTP status and a message key
// the error handler translates. Services throw these; routes never pick statuses.
export class AppError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    public readonly messageKey: string,
    public readonly params: Record<string, string | number> = {},
    public readonly details?: unknown,
  ) {
    super(code);
  }
}

export class ValidationError extends AppError {
  constructor(messageKey = 'error.validation', params: Record<string, string | number> = {}, details?: unknown) {
    super(400, 'validation_failed', messageKey, params, details);
  }
}
export class UnauthorizedError extends AppError {
  constructor(messageKey = 'error.unauthorized') {
    super(401, 'unauthorized', messageKey);
  }
}
export class ForbiddenError extends AppError {
  constructor(messageKey = 'error.forbidden') {
    super(403, 'forbidden', messageKey);
  }
}
/** Also used for records the user may not see: their existence is not revealed. */
export class NotFoundError extends AppError {
  constructor(messageKey = 'error.not_found') {
    super(404, 'not_found', messageKey);
  }
}
export class ConflictError extends AppError {
  constructor(messageKey = 'error.conflict', params: Record<string, string | number> = {}) {
    super(409, 'conflict', messageKey, params);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor() {
    super(413, 'payload_too_large', 'error.too_large');
  }
}
export class TooManyRequestsError extends AppError {
  constructor() {
    super(429, 'too_many_requests', 'error.rate_limited');
  }
}
