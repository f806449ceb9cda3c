/**
 * The account table: create, find (e-mail is case-insensitive), update. Password hashes never
 * leave this module except to `authenticate.ts`; `Account` carries no hash.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import type { Role } from './roles.ts';

export interface Account {
  id: string;
  email: string;
  role: Role;
  fullName: string;
  phone: string;
  fhirUser: string | null;
  secondFactor: 'email' | null;
  emailVerified: boolean;
  failedAttempts: number;
  lockedUntil: Date | null;
}

export interface NewAccount {
  email: string;
  passwordHash: string;
  role: Role;
  fullName?: string;
  phone?: string;
  fhirUser?: string | null;
  secondFactor?: 'email' | null;
  emailVerified?: boolean;
}

const COLUMNS = `id, email, role, full_name AS "fullName", phone, fhir_user AS "fhirUser",
  second_factor AS "secondFactor", email_verified AS "emailVerified",
  failed_attempts AS "failedAttempts", locked_until AS "lockedUntil"`;

/** Loose e-mail shape check: one @, something on both sides, a dot in the domain, no spaces. */
export function isEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

/** Inserts an account; returns undefined when the e-mail is already taken. */
export async function createAccount(q: Queryable, a: NewAccount): Promise<Account | undefined> {
  const { rows } = await q.query<Account>(
    `INSERT INTO account (id, email, password_hash, role, full_name, phone, fhir_user, second_factor, email_verified)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT ((lower(email))) DO NOTHING
     RETURNING ${COLUMNS}`,
    [randomUUID(), a.email.trim(), a.passwordHash, a.role, a.fullName ?? '', a.phone ?? '', a.fhirUser ?? null, a.secondFactor ?? null, a.emailVerified ?? true],
  );
  return rows[0];
}

export async function findAccountByEmail(q: Queryable, email: string): Promise<Account | undefined> {
  const { rows } = await q.query<Account>(`SELECT ${COLUMNS} FROM account WHERE lower(email) = lower($1)`, [email.trim()], 'account_by_email');
  return rows[0];
}

export async function findAccountById(q: Queryable, id: string): Promise<Account | undefined> {
  const { rows } = await q.query<Account>(`SELECT ${COLUMNS} FROM account WHERE id = $1`, [id], 'account_by_id');
  return rows[0];
}

export async function passwordHashOf(q: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await q.query<{ h: string }>('SELECT password_hash AS h FROM account WHERE id = $1', [id], 'account_hash');
  return rows[0]?.h;
}

export async function setPasswordHash(q: Queryable, id: string, passwordHash: string): Promise<void> {
  await q.query('UPDATE account SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
}

export async function setFhirUser(q: Queryable, id: string, fhirUser: string): Promise<void> {
  await q.query('UPDATE account SET fhir_user = $2, updated_at = now() WHERE id = $1', [id, fhirUser]);
}

export async function markEmailVerified(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE account SET email_verified = true, updated_at = now() WHERE id = $1', [id]);
}
