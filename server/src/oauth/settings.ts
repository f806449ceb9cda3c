/** Lifetimes and limits of the authorization server, in one place. */
export const ACCESS_TOKEN_SECONDS = 15 * 60;
export const AUTH_CODE_SECONDS = 60;
/** A login (authorize → code) must finish within this. */
export const LOGIN_SECONDS = 15 * 60;
/** offline_access refresh tokens; online_access ones end with the login session's day. */
export const OFFLINE_REFRESH_SECONDS = 30 * 24 * 3600;
export const ONLINE_REFRESH_SECONDS = 8 * 3600;
/** The e-mailed second factor: 6 digits, 10 minutes, 5 attempts. */
export const SECOND_FACTOR_SECONDS = 10 * 60;
export const SECOND_FACTOR_ATTEMPTS = 5;
/** Client assertions (private_key_jwt) may be valid for at most 5 minutes. */
export const ASSERTION_MAX_SECONDS = 5 * 60;
export const LAUNCH_SECONDS = 10 * 60;
/** Key rotation: a new signing key every 30 days; old ones stay published 2 more days. */
export const KEY_ROTATE_MS = 30 * 24 * 3600 * 1000;
export const KEY_GRACE_MS = 2 * 24 * 3600 * 1000;
/** Backend clients' JWKS fetched by URL are cached this long. */
export const JWKS_CACHE_MS = 5 * 60 * 1000;
