/**
 * OAuth error responses (RFC 6749 §5.2): `{ error, error_description }` JSON with the fitting
 * status. Thrown as OAuthError by the endpoints and written by `sendOAuthError`.
 */
import type { Response } from 'express';

export type OAuthErrorCode =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type'
  | 'invalid_scope' | 'access_denied' | 'unsupported_response_type' | 'server_error' | 'temporarily_unavailable'
  | 'invalid_token' | 'insufficient_scope' | 'invalid_redirect_uri' | 'invalid_client_metadata' | 'slow_down';

const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  slow_down: 429,
};

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;

  constructor(code: OAuthErrorCode, description: string, status?: number) {
    super(description);
    this.code = code;
    this.status = status ?? STATUS[code] ?? 400;
  }
}

export function sendOAuthError(res: Response, err: OAuthError): void {
  res.setHeader('cache-control', 'no-store');
  if (err.status === 401 && err.code === 'invalid_client') res.setHeader('www-authenticate', 'Bearer realm="token"');
  res.status(err.status).json({ error: err.code, error_description: err.message });
}
