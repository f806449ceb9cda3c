/**
 * Account endpoints outside FHIR (JSON in, OAuth-style errors out):
 * - POST /accounts/register        patient self-registration (booking app), e-mail verification
 * - GET  /accounts/verify?token=   confirms the e-mail address
 * - POST /accounts                 staff account creation by an admin or hr user (bearer token)
 * - POST /accounts/password        the signed-in user changes their password (bearer token)
 * - PUT  /accounts/me              the signed-in user updates their name and phone (account and FHIR resource)
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Database } from '../db/database.ts';
import type { EmailSender } from '../notify/email.ts';
import { bearerToken } from '../oauth/bearer.ts';
import { OAuthError } from '../oauth/errors.ts';
import { html } from '../oauth/html.ts';
import { page } from '../oauth/pages.ts';
import { randomToken, sha256 } from '../oauth/secrets.ts';
import { verifyAccessToken, type AccessClaims, type Issuer } from '../oauth/tokens.ts';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';
import { createProfile, updateProfile } from './profile.ts';
import { isRole } from './roles.ts';
import { createAccount, findAccountById, isEmail, markEmailVerified, passwordHashOf, setFhirUser, setPasswordHash } from './store.ts';

export interface AccountRoutesOptions {
  db: Database;
  issuer: Issuer;
  email: EmailSender;
  baseUrl: string;
}

const VERIFY_SECONDS = 24 * 3600;
const invalid = (why: string) => new OAuthError('invalid_request', why);
const text = (v: unknown, max = 200) => (typeof v === 'string' ? v.trim().slice(0, max) : '');

async function signedIn(o: AccountRoutesOptions, req: Request): Promise<AccessClaims> {
  const token = bearerToken(req);
  const claims = token ? await verifyAccessToken(o.issuer, token).catch(() => undefined) : undefined;
  if (!claims || !claims.role) throw new OAuthError('invalid_token', 'Sign in first: a valid bearer access token of a user is required');
  return claims;
}

export function accountRoutes(o: AccountRoutesOptions): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '32kb' }));
  const wrap = (h: (req: Request, res: Response) => Promise<void>): RequestHandler => (req, res, next) => {
    h(req, res).catch(next);
  };

  r.post('/register', wrap(async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const email = text(b.email, 254);
    if (!isEmail(email)) throw invalid('email is not an e-mail address');
    const problem = passwordProblem(b.password);
    if (problem) throw invalid(problem);
    const fullName = text(b.full_name);
    if (!fullName) throw invalid('full_name is required');
    const medicare = text(b.medicare_number).replace(/\s+/g, '');
    if (!/^\d{10,11}$/.test(medicare)) throw invalid('medicare_number must be 10 or 11 digits');
    const passwordHash = await hashPassword(b.password as string);
    const created = await o.db.transaction(async (tx) => {
      const account = await createAccount(tx, { email, passwordHash, role: 'patient', fullName, phone: text(b.phone, 40), emailVerified: false });
      if (!account) return undefined;
      const fhirUser = await createProfile(tx, o.db, { role: 'patient', email, fullName, phone: text(b.phone, 40), medicareNumber: medicare });
      await setFhirUser(tx, account.id, fhirUser);
      const token = randomToken();
      await tx.query('INSERT INTO account_verification (token_hash, account_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))', [sha256(token), account.id, VERIFY_SECONDS]);
      return token;
    });
    // The same answer whether or not the e-mail was taken, so registration does not reveal accounts.
    await o.email.send(created
      ? { to: email, subject: 'Confirm your e-mail address', text: `Confirm your e-mail address to finish registering: ${o.baseUrl}/accounts/verify?token=${created}` }
      : { to: email, subject: 'You already have an account', text: 'Someone tried to register with this e-mail address, which already has an account. If it was you, sign in instead.' });
    res.status(202).json({ status: 'verification-sent' });
  }));

  r.get('/verify', wrap(async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const { rows } = await o.db.query<{ account_id: string }>('DELETE FROM account_verification WHERE token_hash = $1 AND expires_at > now() RETURNING account_id', [sha256(token)]);
    if (rows[0]) await markEmailVerified(o.db, rows[0].account_id);
    res.status(rows[0] ? 200 : 400).type('html').send(page(rows[0] ? 'E-mail confirmed' : 'Link not valid',
      rows[0] ? html`<p>Your e-mail address is confirmed. You can sign in now.</p>` : html`<p role="alert">This link is not valid or has expired.</p>`));
  }));

  r.post('/', wrap(async (req, res) => {
    const claims = await signedIn(o, req);
    if (claims.role !== 'admin' && claims.role !== 'hr') throw new OAuthError('access_denied', 'Only admin and hr users create staff accounts');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const email = text(b.email, 254);
    const role = text(b.role, 40);
    if (!isEmail(email)) throw invalid('email is not an e-mail address');
    if (!isRole(role) || role === 'patient') throw invalid('role must be a staff role (patients register themselves)');
    if (role === 'admin' && claims.role !== 'admin') throw new OAuthError('access_denied', 'Only admins create admin accounts');
    const problem = passwordProblem(b.password);
    if (problem) throw invalid(problem);
    const fullName = text(b.full_name);
    if (!fullName) throw invalid('full_name is required');
    const passwordHash = await hashPassword(b.password as string);
    const result = await o.db.transaction(async (tx) => {
      const account = await createAccount(tx, {
        email, passwordHash, role, fullName, phone: text(b.phone, 40), secondFactor: b.second_factor === 'email' ? 'email' : null,
      });
      if (!account) return undefined;
      const fhirUser = await createProfile(tx, o.db, { role, email, fullName, phone: text(b.phone, 40), providerNumber: text(b.provider_number, 20) });
      await setFhirUser(tx, account.id, fhirUser);
      return { id: account.id, email, role, fhirUser };
    });
    if (!result) throw invalid('An account with this e-mail already exists');
    res.status(201).json(result);
  }));

  r.post('/password', wrap(async (req, res) => {
    const claims = await signedIn(o, req);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const stored = await passwordHashOf(o.db, claims.sub);
    if (!stored || typeof b.current_password !== 'string' || !(await verifyPassword(stored, b.current_password))) {
      throw new OAuthError('access_denied', 'The current password is not correct');
    }
    const problem = passwordProblem(b.new_password);
    if (problem) throw invalid(problem);
    await setPasswordHash(o.db, claims.sub, await hashPassword(b.new_password as string));
    res.status(204).end();
  }));

  r.put('/me', wrap(async (req, res) => {
    const claims = await signedIn(o, req);
    const account = await findAccountById(o.db, claims.sub);
    if (!account) throw new OAuthError('invalid_token', 'The account no longer exists');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const fullName = b.full_name === undefined ? account.fullName : text(b.full_name);
    const phone = b.phone === undefined ? account.phone : text(b.phone, 40);
    if (!fullName) throw invalid('full_name may not be empty');
    await o.db.transaction(async (tx) => {
      await tx.query('UPDATE account SET full_name = $2, phone = $3, updated_at = now() WHERE id = $1', [account.id, fullName, phone]);
      if (account.fhirUser) await updateProfile(tx, o.db, account.fhirUser, { fullName, phone, email: account.email });
    });
    res.json({ id: account.id, email: account.email, full_name: fullName, phone, fhirUser: account.fhirUser });
  }));
  return r;
}
