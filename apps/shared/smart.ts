/**
 * SMART App Launch for our apps, done by SMART's own JS client (fhirclient): discovery from
 * /fhir/.well-known/smart-configuration, PKCE (S256), state, code exchange and refresh. The
 * apps are served by the FHIR server itself, so the server is this page's own origin.
 */
import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';

export type AppName = 'booking' | 'charting' | 'analytics';

export interface Launched {
  client: Client;
  /** The bearer token for FHIR calls. */
  accessToken: string;
  /** The signed-in user's own resource, e.g. "Patient/123" or "Practitioner/9". */
  fhirUser?: string;
  /** The patient in context (patient launches). */
  patientId?: string;
  /** The signed-in person's name, from the id_token (scope openid). */
  userName?: string;
}

/** The FHIR base this page talks to. */
export function fhirBase(): string {
  return `${window.location.origin}/fhir`;
}

/**
 * Finishes a launch when the page is the redirect back from the authorization server, or starts
 * one (a redirect to the login page, so the promise then never settles).
 */
export async function launch(app: AppName, scope: string): Promise<Launched> {
  const client = await FHIR.oauth2.init({
    iss: fhirBase(),
    clientId: `${app}-app`,
    scope,
    redirectUri: `${window.location.origin}/apps/${app}/`,
    pkceMode: 'required',
  });
  const accessToken = client.state.tokenResponse?.access_token as string;
  // fhirclient keeps the code in the address bar after the exchange; tidy it away.
  if (window.location.search) window.history.replaceState(null, '', window.location.pathname);
  const fhirUser = (client.getFhirUser() as string | null) ?? undefined;
  const name = client.getIdToken()?.name;
  return { client, accessToken, fhirUser, patientId: client.patient.id ?? undefined, userName: typeof name === 'string' ? name : undefined };
}

/** Forgets the session (the next visit signs in again). */
export function signOut(app: AppName): void {
  sessionStorage.clear();
  window.location.assign(`/apps/${app}/`);
}
