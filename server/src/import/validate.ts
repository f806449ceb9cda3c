/**
 * Validates every row of an import directory before anything is written, collecting each
 * problem with its file and line. Returns the typed plan only when there are no problems.
 */
import { isRole, PROVIDER_ROLES, type Role } from '../accounts/roles.ts';
import { isEmail } from '../accounts/store.ts';
import { passwordProblem } from '../accounts/password.ts';
import { readCsv, type Problem } from './csv.ts';
import { parseDays, parseTime, type Weekday } from './hours.ts';

export const CENTRE_COLUMNS = ['name', 'type', 'suburb', 'address', 'phone'] as const;
export const USER_COLUMNS = ['email', 'password', 'full_name', 'phone', 'role', 'medicare_number', 'provider_number', 'expertise', 'second_factor'] as const;
export const HOURS_COLUMNS = ['provider_email', 'centre_name', 'days', 'start', 'end'] as const;

export interface CentreRow { line: number; name: string; type: 'hospital' | 'medical-centre'; suburb: string; address: string; phone: string }
export interface UserRow {
  line: number; email: string; password: string; fullName: string; phone: string; role: Role;
  medicareNumber: string; providerNumber: string; expertise: string; secondFactor: 'email' | null;
}
export interface HoursRow { line: number; providerEmail: string; centreName: string; days: Weekday[]; start: string; end: string }

export interface ImportPlan {
  centres: CentreRow[];
  users: UserRow[];
  hours: HoursRow[];
}

export type ValidationResult = { ok: true; plan: ImportPlan } | { ok: false; problems: Problem[] };

const key = (s: string) => s.trim().toLowerCase();

export function validateImport(dir: string): ValidationResult {
  const problems: Problem[] = [];
  const centresCsv = readCsv(dir, 'centres.csv', CENTRE_COLUMNS, false, problems);
  const usersCsv = readCsv(dir, 'users.csv', USER_COLUMNS, true, problems);
  const hoursCsv = readCsv(dir, 'provider_centres.csv', HOURS_COLUMNS, false, problems);

  const centres: CentreRow[] = [];
  const centreNames = new Set<string>();
  for (const { line, values: v } of centresCsv?.rows ?? []) {
    const bad = (message: string) => problems.push({ file: 'centres.csv', line, message });
    if (!v.name) bad('name is empty');
    else if (centreNames.has(key(v.name))) bad(`centre "${v.name}" appears twice`);
    if (v.type !== 'hospital' && v.type !== 'medical-centre') bad(`type must be hospital or medical-centre, not "${v.type}"`);
    if (!v.suburb) bad('suburb is empty');
    if (v.name) centreNames.add(key(v.name));
    centres.push({ line, name: v.name, type: v.type as CentreRow['type'], suburb: v.suburb, address: v.address, phone: v.phone });
  }

  const users: UserRow[] = [];
  const emails = new Map<string, Role | undefined>();
  const medicare = new Set<string>();
  const providerNumbers = new Set<string>();
  for (const { line, values: v } of usersCsv?.rows ?? []) {
    const bad = (message: string) => problems.push({ file: 'users.csv', line, message });
    const role = v.role;
    if (!isEmail(v.email)) bad(`email "${v.email}" is not an e-mail address`);
    else if (emails.has(key(v.email))) bad(`email "${v.email}" appears twice`);
    const pw = passwordProblem(v.password);
    if (pw) bad(pw);
    if (!v.full_name) bad('full_name is empty');
    if (!isRole(role)) bad(`role "${role}" is not one of the known roles`);
    const medicareNumber = v.medicare_number.replace(/\s+/g, '');
    const providerNumber = v.provider_number.replace(/\s+/g, '').toUpperCase();
    if (role === 'patient') {
      if (!/^\d{10,11}$/.test(medicareNumber)) bad('medicare_number must be 10 or 11 digits for a patient');
      else if (medicare.has(medicareNumber)) bad(`medicare_number ${medicareNumber} appears twice`);
      medicare.add(medicareNumber);
    }
    if (isRole(role) && PROVIDER_ROLES.has(role)) {
      if (!/^[0-9]{6}[0-9A-Z]{1,2}$/.test(providerNumber)) bad('provider_number must be 6 digits and 1–2 letters or digits for a provider');
      else if (providerNumbers.has(providerNumber)) bad(`provider_number ${providerNumber} appears twice`);
      providerNumbers.add(providerNumber);
    }
    if (role === 'specialist' && !v.expertise) bad('expertise is required for a specialist');
    if (v.second_factor !== '' && v.second_factor !== 'email') bad(`second_factor must be email or empty, not "${v.second_factor}"`);
    if (isEmail(v.email)) emails.set(key(v.email), isRole(role) ? role : undefined);
    users.push({
      line, email: v.email, password: v.password, fullName: v.full_name, phone: v.phone, role: role as Role,
      medicareNumber, providerNumber, expertise: v.expertise, secondFactor: v.second_factor === 'email' ? 'email' : null,
    });
  }

  const hours: HoursRow[] = [];
  for (const { line, values: v } of hoursCsv?.rows ?? []) {
    const bad = (message: string) => problems.push({ file: 'provider_centres.csv', line, message });
    const role = emails.get(key(v.provider_email));
    if (!emails.has(key(v.provider_email))) bad(`provider_email "${v.provider_email}" is not in users.csv`);
    else if (!role || !PROVIDER_ROLES.has(role)) bad(`"${v.provider_email}" is not a provider (role ${role ?? 'unknown'})`);
    if (!centreNames.has(key(v.centre_name))) bad(`centre_name "${v.centre_name}" is not in centres.csv`);
    const days = parseDays(v.days);
    if (typeof days === 'string') bad(days);
    const start = parseTime(v.start);
    const end = parseTime(v.end);
    if (!start) bad(`start "${v.start}" is not a time HH:MM`);
    if (!end) bad(`end "${v.end}" is not a time HH:MM`);
    if (start && end && start >= end) bad(`start ${v.start} is not before end ${v.end}`);
    hours.push({ line, providerEmail: v.provider_email, centreName: v.centre_name, days: Array.isArray(days) ? days : [], start: start ?? '', end: end ?? '' });
  }

  if (problems.length) return { ok: false, problems: problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line) };
  return { ok: true, plan: { centres, users, hours } };
}
