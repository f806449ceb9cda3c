/**
 * Revocation checks shared between concurrent requests: each check still gets its own answer,
 * and a revocation committed before a check is asked for is always seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../test/db.ts';
import { isRevoked } from './revocation-check.ts';
import { revoke } from './tokens.ts';

describe.each<TestDbKind>(['postgres', 'pglite'])('revocation checks on %s', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('answers each of many concurrent checks for its own ids', async () => {
    const soon = new Date(Date.now() + 600_000);
    await revoke(database.db, 'jti-revoked', soon);
    await revoke(database.db, 'family-revoked', soon);
    // A revocation whose time has passed no longer counts.
    await database.db.query(`INSERT INTO oauth_revocation (id, expires_at) VALUES ('jti-lapsed', now() - interval '1 minute')`);
    const asks: [string[], boolean][] = [];
    for (let n = 0; n < 40; n++) {
      asks.push([[`jti-${n}`], false]);
      if (n % 5 === 0) asks.push([['jti-revoked'], true]);
      if (n % 7 === 0) asks.push([[`jti-x${n}`, 'family-revoked'], true]);
      if (n % 9 === 0) asks.push([['jti-lapsed', `family-${n}`], false]);
    }
    const answers = await Promise.all(asks.map(([ids]) => isRevoked(database.db, ids)));
    expect(answers).toEqual(asks.map(([, expected]) => expected));
    expect(await isRevoked(database.db, [])).toBe(false);
  });

  it('sees a revocation committed before the check was asked for', async () => {
    expect(await isRevoked(database.db, ['jti-late'])).toBe(false);
    // Checks in flight, then the revocation, then a new check: the new one must see it.
    const inFlight = Array.from({ length: 10 }, () => isRevoked(database.db, ['jti-late']));
    await revoke(database.db, 'jti-late', new Date(Date.now() + 600_000));
    expect(await isRevoked(database.db, ['jti-late'])).toBe(true);
    await Promise.all(inFlight);
  });
});
