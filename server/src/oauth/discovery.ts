/** SMART App Launch 2.x discovery document (`.well-known/smart-configuration`). */
export interface Endpoints {
  issuer: string;
  authorize: string;
  token: string;
  jwks: string;
  introspect: string;
  revoke: string;
  register: string;
  launch: string;
}

export function endpointsFor(baseUrl: string): Endpoints {
  const o = `${baseUrl}/oauth`;
  return {
    issuer: baseUrl,
    authorize: `${o}/authorize`,
    token: `${o}/token`,
    jwks: `${o}/jwks`,
    introspect: `${o}/introspect`,
    revoke: `${o}/revoke`,
    register: `${o}/register`,
    launch: `${o}/launch`,
  };
}

export function smartConfiguration(e: Endpoints): Record<string, unknown> {
  return {
    issuer: e.issuer,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorize,
    token_endpoint: e.token,
    introspection_endpoint: e.introspect,
    revocation_endpoint: e.revoke,
    registration_endpoint: e.register,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: [
      'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access', 'online_access',
      'patient/*.read', 'patient/*.rs', 'patient/*.cruds', 'user/*.read', 'user/*.rs', 'user/*.cruds', 'system/*.read', 'system/*.rs', 'system/*.cruds',
    ],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['RS256'],
    capabilities: [
      'launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-asymmetric',
      'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-banner',
      'sso-openid-connect', 'permission-offline', 'permission-online', 'permission-patient', 'permission-user',
      'permission-v1', 'permission-v2', 'authorize-post',
    ],
  };
}
