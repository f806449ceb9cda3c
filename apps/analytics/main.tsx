import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { AnalyticsApp } from './AnalyticsApp.tsx';

// Read-only access across patients: the server caps it by role (admins see appointments,
// demographics and invoices clinic-wide; clinical entries stay with the treating providers).
const SCOPE = 'openid fhirUser user/*.rs';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="analytics" title="Clinic analytics" scope={SCOPE}>
    {(session) => <AnalyticsApp session={session} />}
  </SmartApp>,
);
