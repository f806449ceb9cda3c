import { describe, expect, it } from 'vitest';
import type { AccessClaims } from './tokens.ts';
import { VerifiedTokenCache } from './verified-tokens.ts';

const claims = (exp: number, extra: Partial<AccessClaims> = {}): AccessClaims => ({ sub: 's', client_id: 'c', scope: 'system/*.rs', jti: 'j', exp, ...extra });
const NOW = 1_900_000_000_000;

describe('VerifiedTokenCache', () => {
  it('answers a token it holds only while the token is within its lifetime', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t1', { claims: claims(NOW / 1000 + 60), kid: 'k1' });
    expect(cache.get('t1', NOW)?.kid).toBe('k1');
    expect(cache.get('t2', NOW)).toBeUndefined();
    expect(cache.get('t1', NOW + 60_000)).toBeUndefined();
    // An expired token is dropped, not kept.
    expect(cache.size).toBe(0);
  });

  it('honours nbf', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', { claims: claims(NOW / 1000 + 600, { nbf: NOW / 1000 + 60 }), kid: 'k' });
    expect(cache.get('t', NOW)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new VerifiedTokenCache(3);
    for (const t of ['a', 'b', 'c', 'd']) cache.set(t, { claims: claims(NOW / 1000 + 60), kid: 'k' });
    expect(cache.size).toBe(3);
    expect(cache.get('a', NOW)).toBeUndefined();
    expect(cache.get('d', NOW)).toBeDefined();
  });
});
