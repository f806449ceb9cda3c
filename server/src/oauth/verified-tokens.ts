/**
 * Access tokens whose signature and fixed claims (issuer, audience, type, algorithm) already
 * verified, by their exact text: a client sends the same token with every request, and the RSA
 * check is most of what verifying it costs. The same text carries the same signature, so the
 * answer cannot change; what can change is checked again at every use: expiry (here), and the
 * signing key still being published and the token not being revoked (by the caller).
 */
import type { AccessClaims } from './tokens.ts';

export interface VerifiedToken {
  claims: AccessClaims;
  /** The key that signed it, which must still be published for the token to pass. */
  kid: string;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();
  private readonly maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.maxEntries = maxEntries;
  }

  /** The token's verified claims, unless it is unknown or no longer within its lifetime. */
  get(token: string, nowMs = Date.now()): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const { exp, nbf } = entry.claims;
    if (exp * 1000 <= nowMs || (typeof nbf === 'number' && nbf * 1000 > nowMs)) {
      this.entries.delete(token);
      return undefined;
    }
    return entry;
  }

  set(token: string, entry: VerifiedToken): void {
    // Oldest first out: a full cache only costs the evicted tokens one more RSA check.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, entry);
  }

  get size(): number {
    return this.entries.size;
  }
}
