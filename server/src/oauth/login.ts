/**
 * The login steps after /oauth/authorize: password (with lockout), e-mailed second factor,
 * consent for third-party apps, patient picker, and finally the authorization code redirect.
 * Each step is a form POST checked against the login's cookie and CSRF token.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Database } from '../db/database.ts';
import type { EmailSender } from '../notify/email.ts';
import { authenticate } from '../accounts/lockout.ts';
import { findAccountById, type Account } from '../accounts/store.ts';
import { redirectWith } from './authorize.ts';
import { endLogin, loginOf, updateLogin, type LoginRow } from './login-session.ts';
import { codePage, consentPage, errorPage, loginPage, patientPickerPage, type FormState } from './pages.ts';
import { pickerPatients } from './patient-picker.ts';
import { randomToken, safeEqual, sha256, sixDigitCode } from './secrets.ts';
import { AUTH_CODE_SECONDS, SECOND_FACTOR_ATTEMPTS, SECOND_FACTOR_SECONDS } from './settings.ts';

export interface LoginOptions {
  db: Database;
  email: EmailSender;
  secureCookies: boolean;
}

const form = (l: LoginRow): FormState => ({ request: l.id, csrf: l.csrf, clientName: l.request.clientName });
const field = (req: Request, name: string) => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.slice(0, 1024) : '';
};

function sendPage(res: Response, status: number, body: string): void {
  res.status(status).setHeader('cache-control', 'no-store');
  res.type('html').send(body);
}

/** The login a POST belongs to, or an error page when the form is stale or forged. */
async function requireLogin(opts: LoginOptions, req: Request, res: Response, stage: LoginRow['stage']): Promise<LoginRow | undefined> {
  const login = await loginOf(opts.db, req);
  if (!login) {
    sendPage(res, 400, errorPage('This sign-in form has expired or was not sent from this browser.'));
    return undefined;
  }
  if (login.stage !== stage) {
    sendPage(res, 400, errorPage('This step of the sign-in is not expected now.'));
    return undefined;
  }
  return login;
}

export async function postPassword(opts: LoginOptions, req: Request, res: Response): Promise<void> {
  const login = await requireLogin(opts, req, res, 'login');
  if (!login) return;
  const email = field(req, 'email').trim();
  const result = await authenticate(opts.db, email, field(req, 'password'));
  if (!result.ok) {
    const message = result.reason === 'locked'
      ? `Too many failed sign-ins: this account is locked until ${result.until.toISOString().slice(11, 16)} UTC. Try again later.`
      : result.reason === 'unverified'
        ? 'Please confirm your e-mail address first: follow the link we sent you.'
        : 'E-mail or password is not correct.';
    sendPage(res, result.reason === 'locked' ? 423 : 401, loginPage(form(login), message, email));
    return;
  }
  const account = result.account;
  if (account.secondFactor === 'email') {
    const code = sixDigitCode();
    await updateLogin(opts.db, login.id, {
      account_id: account.id, stage: 'code', code_hash: sha256(code), code_attempts: 0,
      code_expires: new Date(Date.now() + SECOND_FACTOR_SECONDS * 1000),
    });
    await opts.email.send({
      to: account.email,
      subject: 'Your sign-in code',
      text: `Your sign-in code is ${code}. It is valid for 10 minutes. If you did not try to sign in, ignore this e-mail.`,
    });
    sendPage(res, 200, codePage(form(login)));
    return;
  }
  await updateLogin(opts.db, login.id, { account_id: account.id });
  await advance(opts, res, { ...login, accountId: account.id }, account);
}

export async function postCode(opts: LoginOptions, req: Request, res: Response): Promise<void> {
  const login = await requireLogin(opts, req, res, 'code');
  if (!login) return;
  if (login.codeExpired || login.codeAttempts >= SECOND_FACTOR_ATTEMPTS) {
    await endLogin(opts.db, res, login.id, opts.secureCookies);
    sendPage(res, 400, errorPage(login.codeExpired ? 'The code has expired.' : 'Too many wrong codes.'));
    return;
  }
  const code = field(req, 'code').trim();
  if (!login.codeHash || !/^\d{6}$/.test(code) || !safeEqual(login.codeHash, sha256(code))) {
    const attempts = login.codeAttempts + 1;
    await updateLogin(opts.db, login.id, { code_attempts: attempts });
    const left = SECOND_FACTOR_ATTEMPTS - attempts;
    sendPage(res, 401, codePage(form(login), left > 0 ? `That code is not correct. ${left} attempt(s) left.` : 'That code is not correct, and no attempts are left: start again.'));
    return;
  }
  await updateLogin(opts.db, login.id, { code_hash: null, code_expires: null });
  const account = await findAccountById(opts.db, login.accountId as string);
  if (!account) return sendPage(res, 400, errorPage('The account no longer exists.'));
  await advance(opts, res, login, account);
}

export async function postConsent(opts: LoginOptions, req: Request, res: Response): Promise<void> {
  const login = await requireLogin(opts, req, res, 'consent');
  if (!login) return;
  if (field(req, 'decision') !== 'approve') {
    await endLogin(opts.db, res, login.id, opts.secureCookies);
    redirectWith(res, login.request.redirectUri, { error: 'access_denied', error_description: 'The user denied access', state: login.request.state });
    return;
  }
  await opts.db.query(
    `INSERT INTO oauth_consent (account_id, client_id, scope) VALUES ($1, $2, $3)
     ON CONFLICT (account_id, client_id) DO UPDATE SET scope = EXCLUDED.scope`,
    [login.accountId, login.request.clientId, login.request.scope.join(' ')],
  );
  const account = await findAccountById(opts.db, login.accountId as string);
  if (!account) return sendPage(res, 400, errorPage('The account no longer exists.'));
  await advance(opts, res, login, account, true);
}

export async function postPatient(opts: LoginOptions, req: Request, res: Response): Promise<void> {
  const login = await requireLogin(opts, req, res, 'patient');
  if (!login) return;
  const account = await findAccountById(opts.db, login.accountId as string);
  if (!account) return sendPage(res, 400, errorPage('The account no longer exists.'));
  const query = field(req, 'q');
  const patients = await pickerPatients(opts.db, account, query);
  const chosen = field(req, 'patient');
  if (field(req, 'action') !== 'choose' || !chosen) {
    sendPage(res, 200, pickerPage(login, query, patients, field(req, 'action') === 'choose' ? 'Choose a patient first.' : undefined));
    return;
  }
  // Only a patient the picker would list for this user (a fresh search by id) may be chosen.
  const allowed = await pickerPatients(opts.db, account, '', chosen);
  if (!allowed.length) return sendPage(res, 400, pickerPage(login, query, patients, 'That patient is not available.'));
  await advance(opts, res, { ...login, patient: chosen }, account, true, true);
}

function pickerPage(l: LoginRow, query: string, patients: { id: string; label: string }[], error?: string): string {
  return patientPickerPage(form(l), query, patients, error);
}

/**
 * The next step once the user is known: consent (third-party apps, unless already approved),
 * the patient picker (a clinician asking for launch/patient without a launch), or the code.
 */
async function advance(opts: LoginOptions, res: Response, login: LoginRow, account: Account, consented = false, picked = false): Promise<void> {
  const { request } = login;
  if (!request.firstParty && !consented) {
    const { rows } = await opts.db.query<{ scope: string }>('SELECT scope FROM oauth_consent WHERE account_id = $1 AND client_id = $2', [account.id, request.clientId]);
    const approved = new Set(rows[0]?.scope.split(' ') ?? []);
    if (!request.scope.every((s) => approved.has(s))) {
      await updateLogin(opts.db, login.id, { stage: 'consent' });
      return sendPage(res, 200, consentPage(form(login), request.scope));
    }
  }
  let patient = login.patient;
  let encounter = login.encounter;
  if (request.launch) {
    const { rows } = await opts.db.query<{ patient: string | null; encounter: string | null }>(
      'SELECT patient, encounter FROM oauth_launch WHERE id = $1 AND account_id = $2 AND expires_at > now()', [request.launch, account.id]);
    if (!rows[0]) {
      await endLogin(opts.db, res, login.id, opts.secureCookies);
      return redirectWith(res, request.redirectUri, { error: 'access_denied', error_description: 'The launch does not belong to this user', state: request.state });
    }
    patient = rows[0].patient;
    encounter = rows[0].encounter;
  } else if (account.fhirUser?.startsWith('Patient/')) {
    // A patient's own record is the patient context of patient/ scopes.
    if (request.scope.some((s) => s === 'launch/patient' || s.startsWith('patient/'))) patient = account.fhirUser.slice('Patient/'.length);
  } else if (request.scope.includes('launch/patient') && !picked) {
    await updateLogin(opts.db, login.id, { stage: 'patient' });
    return sendPage(res, 200, pickerPage(login, '', await pickerPatients(opts.db, account, '')));
  }
  const code = randomToken();
  await opts.db.query(
    `INSERT INTO oauth_code (code_hash, client_id, account_id, scope, redirect_uri, code_challenge, patient, encounter, family_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))`,
    [sha256(code), request.clientId, account.id, request.scope.join(' '), request.redirectUri, request.codeChallenge, patient, encounter, randomUUID(), AUTH_CODE_SECONDS],
  );
  await endLogin(opts.db, res, login.id, opts.secureCookies);
  redirectWith(res, request.redirectUri, { code, state: request.state });
}
