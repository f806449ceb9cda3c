/**
 * The demo network, generated deterministically (fixed random seed): 5 centres in named Sydney
 * suburbs, 30 providers across professions and specialties (several at two centres, with hours
 * that do not overlap), 200 patients and 3 staff — as the rows of the CONTRACT import CSVs.
 * Appointments, referrals, notes and ratings are added by load.ts on top of the import.
 */
export const DEMO_PASSWORD = 'clinic-demo-2024';
export const SEED = 20_240_601;

/** mulberry32: a small, fast, deterministic PRNG. */
export function rng(seed = SEED): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Centre { name: string; type: 'hospital' | 'medical-centre'; suburb: string; address: string; phone: string }
export interface User {
  email: string; password: string; full_name: string; phone: string; role: string;
  medicare_number: string; provider_number: string; expertise: string; second_factor: string;
}
export interface Hours { provider_email: string; centre_name: string; days: string; start: string; end: string }
export interface DemoNetwork { centres: Centre[]; users: User[]; hours: Hours[] }

export const CENTRES: Centre[] = [
  { name: 'Royal Randwick Hospital', type: 'hospital', suburb: 'Randwick', address: '1 Barker St', phone: '02 9000 0001' },
  { name: 'Garners Medical Centre', type: 'medical-centre', suburb: 'Kensington', address: '12 Anzac Pde', phone: '02 9000 0002' },
  { name: 'Coogee Family Practice', type: 'medical-centre', suburb: 'Coogee', address: '210 Arden St', phone: '02 9000 0003' },
  { name: 'Maroubra Health Hub', type: 'medical-centre', suburb: 'Maroubra', address: '44 McKeon St', phone: '02 9000 0004' },
  { name: 'Bondi Junction Specialist Centre', type: 'hospital', suburb: 'Bondi Junction', address: '500 Oxford St', phone: '02 9000 0005' },
];

const FIRST = ['Jack', 'Olivia', 'Noah', 'Charlotte', 'William', 'Amelia', 'Oliver', 'Isla', 'Thomas', 'Mia', 'James', 'Ava', 'Lucas', 'Grace',
  'Henry', 'Chloe', 'Leo', 'Zoe', 'Ethan', 'Ruby', 'Mason', 'Sophie', 'Liam', 'Emily', 'Hugo', 'Harper', 'Aria', 'Kai', 'Priya', 'Wei',
  'Mohammed', 'Fatima', 'Luca', 'Anh', 'Sakura', 'Tane', 'Niamh', 'Mateo', 'Yusuf', 'Ines'];
const LAST = ['Jackson', 'Nguyen', 'Smith', 'Williams', 'Brown', 'Wilson', 'Taylor', 'Johnson', 'White', 'Martin', 'Anderson', 'Thompson',
  'Tran', 'Walker', 'Harris', 'Lee', 'Ryan', 'Robinson', 'Kelly', 'King', 'Chen', 'Patel', 'Singh', 'Kowalski', 'Rossi', 'Papadopoulos',
  "O'Brien", 'Murphy', 'Hughes', 'Campbell'];

/** Professions of the 30 providers, and the specialists' expertise. */
const PROFESSIONS: [string, number][] = [['gp', 10], ['specialist', 8], ['physiotherapist', 4], ['pathologist', 3], ['pharmacist', 2], ['radiographer', 2], ['nurse', 1]];
export const SPECIALTIES = ['Cardiology', 'Dermatology', 'Orthopaedics', 'Neurology', 'Paediatrics', 'Oncology', 'Endocrinology', 'Gastroenterology'];

const email = (first: string, last: string, n: number) => `${first}.${last}${n}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + '@example.org';

export function generateNetwork(seed = SEED): DemoNetwork {
  const rand = rng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
  const users: User[] = [];
  const hours: Hours[] = [];
  const blank = { medicare_number: '', provider_number: '', expertise: '', second_factor: '' };
  let n = 0;
  let specialist = 0;
  for (const [role, count] of PROFESSIONS) {
    for (let i = 0; i < count; i++) {
      n++;
      const first = pick(FIRST);
      const last = pick(LAST);
      const title = role === 'gp' || role === 'specialist' ? 'Dr ' : '';
      const user: User = {
        ...blank, email: email(first, last, n), password: DEMO_PASSWORD, full_name: `${title}${first} ${last}`,
        phone: `04${digits(2)} ${digits(3)} ${digits(3)}`, role,
        provider_number: `${String(240_000 + n * 37).padStart(6, '0')}${'ABCDEFGHJK'[n % 10]}`,
        expertise: role === 'specialist' ? SPECIALTIES[specialist++ % SPECIALTIES.length] : '',
      };
      users.push(user);
      // Every provider works at one centre Mon–Wed; a third also work Thu–Fri at a second one.
      const home = CENTRES[(n * 3) % CENTRES.length];
      hours.push({ provider_email: user.email, centre_name: home.name, days: 'Mon-Wed', start: '09:00', end: '17:00' });
      if (n % 3 === 0) {
        const other = CENTRES[(n * 3 + 1) % CENTRES.length];
        hours.push({ provider_email: user.email, centre_name: other.name, days: 'Thu-Fri', start: '08:30', end: '16:30' });
      } else {
        hours.push({ provider_email: user.email, centre_name: home.name, days: 'Thu,Fri', start: '13:00', end: '18:00' });
      }
    }
  }
  for (const [role, name] of [['receptionist', 'Rita Desk'], ['admin', 'Ada Admin'], ['hr', 'Harry Staff']]) {
    users.push({ ...blank, email: `${name.split(' ')[0].toLowerCase()}@example.org`, password: DEMO_PASSWORD, full_name: name, phone: `0400 000 ${users.length}`, role });
  }
  for (let i = 1; i <= 200; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    users.push({
      ...blank, email: email(first, last, 100 + i), password: DEMO_PASSWORD, full_name: `${first} ${last}`,
      phone: `04${digits(2)} ${digits(3)} ${digits(3)}`, role: 'patient',
      medicare_number: `${2 + (i % 5)}${String(i).padStart(4, '0')}${digits(5)}`,
      second_factor: i % 10 === 0 ? 'email' : '',
    });
  }
  return { centres: CENTRES, users, hours };
}

/**
 * The services a centre offers (HealthcareService per centre and service type): a service type is
 * offered where a provider of its professions works. `category` is from the R4 service-category
 * code system; `code` is ours (`HealthcareService?service-type=urn:clinic:service-type|gp`).
 */
export interface ServiceType { code: string; name: string; professions: readonly string[]; category: { code: string; display: string } }
export const SERVICE_TYPE_SYSTEM = 'urn:clinic:service-type';
export const SERVICE_TYPES: readonly ServiceType[] = [
  { code: 'gp', name: 'General practice', professions: ['gp', 'nurse'], category: { code: '17', display: 'General Practice' } },
  { code: 'pathology', name: 'Pathology', professions: ['pathologist'], category: { code: '26', display: 'Specialist Clinical Pathology' } },
  { code: 'imaging', name: 'Medical imaging', professions: ['radiographer'], category: { code: '30', display: 'Specialist Radiology/Imaging' } },
  { code: 'physiotherapy', name: 'Physiotherapy', professions: ['physiotherapist'], category: { code: '34', display: 'Allied Health' } },
  { code: 'pharmacy', name: 'Pharmacy', professions: ['pharmacist'], category: { code: '34', display: 'Allied Health' } },
  { code: 'specialist-clinics', name: 'Specialist clinics', professions: ['specialist'], category: { code: '27', display: 'Specialist Medical' } },
];

export interface DemoService {
  centre_name: string;
  service_type: string;
  /** e.g. "Physiotherapy — Coogee Family Practice" */
  name: string;
  /** E-mails of the providers who deliver it there, in generator order. */
  providers: string[];
  /** Specialist clinics: the specialties on offer there. */
  specialties: string[];
}

/** HealthcareServices of the network, per centre (CENTRES order) and service type (SERVICE_TYPES order). */
export function demoServices(net: DemoNetwork = generateNetwork()): DemoService[] {
  const out: DemoService[] = [];
  for (const centre of net.centres) {
    const here = new Set(net.hours.filter((h) => h.centre_name === centre.name).map((h) => h.provider_email));
    for (const type of SERVICE_TYPES) {
      const providers = net.users.filter((u) => type.professions.includes(u.role) && here.has(u.email));
      if (!providers.length) continue;
      out.push({
        centre_name: centre.name, service_type: type.code, name: `${type.name} — ${centre.name}`,
        providers: providers.map((u) => u.email),
        specialties: [...new Set(providers.map((u) => u.expertise).filter(Boolean))],
      });
    }
  }
  return out;
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv<T extends object>(columns: readonly (keyof T & string)[], rows: T[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(String(r[c] ?? ''))).join(','))].join('\n') + '\n';
}

export function networkCsv(net: DemoNetwork): Record<string, string> {
  return {
    'centres.csv': toCsv<Centre>(['name', 'type', 'suburb', 'address', 'phone'], net.centres),
    'users.csv': toCsv<User>(['email', 'password', 'full_name', 'phone', 'role', 'medicare_number', 'provider_number', 'expertise', 'second_factor'], net.users),
    'provider_centres.csv': toCsv<Hours>(['provider_email', 'centre_name', 'days', 'start', 'end'], net.hours),
  };
}
