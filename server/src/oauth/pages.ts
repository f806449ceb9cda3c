/**
 * The server-rendered pages of the login flow: plain HTML forms that work without JavaScript,
 * every input with a <label>, errors announced with role="alert".
 */
import { html, type Html } from './html.ts';

const STYLE = html`<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin-top:1rem;font-weight:600}input[type=email],input[type=password],input[type=text],input[type=search]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}
li{list-style:none;margin:.4rem 0}ul{padding:0}
</style>`;

export function page(title: string, body: Html): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title>${STYLE}</head><body><main><h1>${title}</h1>${body}</main></body></html>`.text;
}

export interface FormState {
  request: string;
  csrf: string;
  clientName: string;
}

const hidden = (s: FormState) => html`<input type="hidden" name="request" value="${s.request}"><input type="hidden" name="csrf" value="${s.csrf}">`;
const alert = (error?: string) => (error ? html`<p class="error" role="alert">${error}</p>` : '');

export function loginPage(s: FormState, error?: string, email = ''): string {
  return page('Sign in', html`<p>Sign in to continue to <strong>${s.clientName}</strong>.</p>${alert(error)}
<form method="post" action="/oauth/login">${hidden(s)}
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${email}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`);
}

export function codePage(s: FormState, error?: string): string {
  return page('Enter your code', html`<p>We e-mailed you a 6-digit code. It is valid for 10 minutes.</p>${alert(error)}
<form method="post" action="/oauth/login/code">${hidden(s)}
<label for="code">Code from the e-mail</label><input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required>
<button type="submit">Verify</button></form>`);
}

export function consentPage(s: FormState, scopes: string[]): string {
  return page('Allow access?', html`<p><strong>${s.clientName}</strong> asks for access to:</p>
<ul>${scopes.map((x) => html`<li><code>${x}</code></li>`)}</ul>
<form method="post" action="/oauth/consent">${hidden(s)}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`);
}

export function patientPickerPage(s: FormState, query: string, patients: { id: string; label: string }[], error?: string): string {
  return page('Choose a patient', html`${alert(error)}
<form method="post" action="/oauth/patient">${hidden(s)}
<label for="q">Search patients by name</label><input id="q" name="q" type="search" value="${query}">
<button type="submit" name="action" value="search">Search</button>
<fieldset><legend>Patients</legend>
${patients.length ? patients.map((p, i) => html`<li><input type="radio" name="patient" id="p${i}" value="${p.id}"><label for="p${i}" style="display:inline">${p.label}</label></li>`) : html`<p>No patients found.</p>`}
</fieldset>
<button type="submit" name="action" value="choose">Continue with this patient</button></form>`);
}

export function errorPage(message: string): string {
  return page('Sign-in problem', html`<p class="error" role="alert">${message}</p><p>Go back to the app and start again.</p>`);
}
