/**
 * POST /oauth/launch (EHR launch): the charting app, holding a practitioner's access token,
 * asks for a `launch` id naming the patient (and encounter) it is showing; it then opens the
 * SMART app with `launch=<id>&iss=<FHIR base>`, and that authorization gets this context.
 */
import type { Request, Response } from 'express';
import type { Database } from '../db/database.ts';
import { SmartPolicy } from '../access/smart-policy.ts';
import { isRole } from '../accounts/roles.ts';
import { CarePolicy } from '../care/policy.ts';
import { systemContext } from '../context.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { bearerToken } from './bearer.ts';
import { OAuthError } from './errors.ts';
import { randomToken } from './secrets.ts';
import { LAUNCH_SECONDS } from './settings.ts';
import { verifyAccessToken, type Issuer } from './tokens.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export async function handleLaunch(issuer: Issuer, db: Database, req: Request, res: Response): Promise<void> {
  const token = bearerToken(req);
  const claims = token ? await verifyAccessToken(issuer, token).catch(() => undefined) : undefined;
  if (!claims) throw new OAuthError('invalid_token', 'A valid bearer access token is required');
  if (!claims.fhirUser?.startsWith('Practitioner/')) throw new OAuthError('access_denied', 'Only practitioners can start an EHR launch');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const patient = body.patient;
  const encounter = body.encounter;
  if (typeof patient !== 'string' || !ID.test(patient)) throw new OAuthError('invalid_request', 'patient (a Patient id) is required');
  if (encounter !== undefined && (typeof encounter !== 'string' || !ID.test(encounter))) throw new OAuthError('invalid_request', 'encounter must be an Encounter id');
  // The patient must be one this practitioner may see (CARE: a care relationship); otherwise it
  // is answered like a patient that does not exist.
  const caller = { subject: claims.sub, fhirUser: claims.fhirUser, role: claims.role, scopes: ['user/Patient.rs'] };
  const access = new CarePolicy(new SmartPolicy({ scopes: caller.scopes, role: claims.role && isRole(claims.role) ? claims.role : undefined, fhirUser: claims.fhirUser }), caller);
  const visible = await new FhirRepository({ ...systemContext(), caller, access }, db, { referentialIntegrity: true }).readVersion('Patient', patient);
  if (!visible || visible.deleted) throw new OAuthError('invalid_request', 'No such patient');
  const id = randomToken(18);
  await db.query(
    'INSERT INTO oauth_launch (id, account_id, patient, encounter, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))',
    [id, claims.sub, patient, encounter ?? null, LAUNCH_SECONDS],
  );
  res.status(201).setHeader('cache-control', 'no-store').json({ launch: id, expires_in: LAUNCH_SECONDS });
}
