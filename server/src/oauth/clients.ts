/** Registered OAuth clients (table oauth_client): lookup, registration, redirect-URI matching. */
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type { Queryable } from '../db/database.ts';

export interface Client {
  clientId: string;
  name: string;
  kind: 'public' | 'backend';
  redirectUris: string[];
  /** Scopes the client may be granted; undefined means any supported scope. */
  scope?: string[];
  jwks?: { keys: JWK[] };
  jwksUri?: string;
  firstParty: boolean;
}

interface Row {
  client_id: string;
  name: string;
  kind: Client['kind'];
  redirect_uris: string[];
  scope: string | null;
  jwks: { keys: JWK[] } | null;
  jwks_uri: string | null;
  first_party: boolean;
}

function fromRow(r: Row, baseUrl: string): Client {
  return {
    clientId: r.client_id,
    name: r.name,
    kind: r.kind,
    // Seeded first-party clients name their redirect relative to the deployment's base URL.
    redirectUris: r.redirect_uris.map((u) => u.replace(/^\$BASE_URL/, baseUrl)),
    scope: r.scope ? r.scope.split(' ').filter(Boolean) : undefined,
    jwks: r.jwks ?? undefined,
    jwksUri: r.jwks_uri ?? undefined,
    firstParty: r.first_party,
  };
}

export async function findClient(q: Queryable, clientId: unknown, baseUrl: string): Promise<Client | undefined> {
  if (typeof clientId !== 'string' || !clientId || clientId.length > 200) return undefined;
  const { rows } = await q.query<Row>('SELECT * FROM oauth_client WHERE client_id = $1', [clientId], 'oauth_client_by_id');
  return rows[0] ? fromRow(rows[0], baseUrl) : undefined;
}

export async function insertClient(q: Queryable, c: Omit<Client, 'clientId' | 'firstParty'>): Promise<Client> {
  const clientId = randomUUID();
  await q.query(
    `INSERT INTO oauth_client (client_id, name, kind, redirect_uris, scope, jwks, jwks_uri, first_party)
     VALUES ($1, $2, $3, $4, $5, $6, $7, false)`,
    [clientId, c.name, c.kind, c.redirectUris, c.scope?.join(' ') ?? null, c.jwks ?? null, c.jwksUri ?? null],
  );
  return { ...c, clientId, firstParty: false };
}

/** Exact string match, as SMART and OAuth 2.1 require (no prefix or pattern matching). */
export function redirectUriAllowed(client: Client, uri: unknown): uri is string {
  return typeof uri === 'string' && client.redirectUris.includes(uri);
}
