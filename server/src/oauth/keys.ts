/**
 * Signing keys kept in the database (table oauth_key). The newest key signs; a new one is made
 * when the newest is older than the rotation period, and older keys stay published in the JWKS
 * for a grace period so tokens they signed still verify: rotation needs no downtime and works
 * across several server processes (they share the table and serialise on an advisory lock).
 */
import { randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database } from '../db/database.ts';

type CryptoKey = webcrypto.CryptoKey;

export const TOKEN_ALG = 'RS256';
/** Arbitrary constant naming "the key rotation lock" among advisory locks. */
const KEY_LOCK = 7_246_020;
const CACHE_MS = 60_000;

export interface KeyOptions {
  /** A new signing key is made when the newest is older than this. */
  rotateAfterMs: number;
  /** How long a key stays published after it stops signing (longer than any token lives). */
  graceMs: number;
}

interface StoredKey {
  kid: string;
  alg: string;
  private_jwk: JWK;
  public_jwk: JWK;
  created_at: Date;
}

export interface SigningKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

export class KeyStore {
  private readonly db: Database;
  private readonly options: KeyOptions;
  private cache: { at: number; keys: StoredKey[] } | undefined;
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(db: Database, options: KeyOptions) {
    this.db = db;
    this.options = options;
  }

  private async load(force = false): Promise<StoredKey[]> {
    if (!force && this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.keys;
    const { rows } = await this.db.query<StoredKey>(
      `SELECT kid, alg, private_jwk, public_jwk, created_at FROM oauth_key
        WHERE created_at > now() - make_interval(secs => $1) ORDER BY created_at DESC`,
      [(this.options.rotateAfterMs + this.options.graceMs) / 1000],
    );
    this.cache = { at: Date.now(), keys: rows };
    return rows;
  }

  private needsRotation(keys: StoredKey[]): boolean {
    return !keys[0] || Date.now() - new Date(keys[0].created_at).getTime() > this.options.rotateAfterMs;
  }

  /** Makes a new signing key unless another process just did. */
  async rotate(force = false): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const { rows } = await tx.query<{ created_at: Date }>('SELECT created_at FROM oauth_key ORDER BY created_at DESC LIMIT 1');
      const newest = rows[0] ? new Date(rows[0].created_at).getTime() : 0;
      if (!force && Date.now() - newest <= this.options.rotateAfterMs) return;
      const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { modulusLength: 2048, extractable: true });
      const kid = randomUUID();
      const pub = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALG, use: 'sig' };
      const priv = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALG };
      await tx.query('INSERT INTO oauth_key (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)', [kid, TOKEN_ALG, priv, pub]);
    });
    await this.load(true);
  }

  private importKey(k: StoredKey, which: 'private' | 'public'): Promise<CryptoKey> {
    const id = `${which}:${k.kid}`;
    let p = this.imported.get(id);
    if (!p) {
      p = importJWK(which === 'private' ? k.private_jwk : k.public_jwk, k.alg) as Promise<CryptoKey>;
      this.imported.set(id, p);
    }
    return p;
  }

  async signingKey(): Promise<SigningKey> {
    let keys = await this.load();
    if (this.needsRotation(keys)) {
      await this.rotate();
      keys = await this.load();
    }
    const k = keys[0];
    return { kid: k.kid, alg: k.alg, key: await this.importKey(k, 'private') };
  }

  /** The public key with this kid, if it is still published (reloads once for a key made elsewhere). */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    let k = (await this.load()).find((x) => x.kid === kid);
    if (!k && this.cache && Date.now() - this.cache.at > 1000) k = (await this.load(true)).find((x) => x.kid === kid);
    return k ? this.importKey(k, 'public') : undefined;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    let keys = await this.load();
    if (keys.length === 0) {
      await this.signingKey();
      keys = await this.load();
    }
    return { keys: keys.map((k) => k.public_jwk) };
  }
}
