import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { BookingApp } from './BookingApp.tsx';

// A patient reads the directory (Practitioner, PractitionerRole, Location, Slot...) with any
// patient token (CONTRACT), so the app asks only for its own Patient and Appointments: book
// (create), list (read, search) and cancel (update) — patients may not delete appointments —
// and its own ratings (Basic): rate a provider (create) and see one's ratings (read, search).
const SCOPE = 'openid fhirUser launch/patient patient/Patient.rs patient/Appointment.crus patient/Basic.crs offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="booking" title="Book a visit" scope={SCOPE}>
    {(session) => <BookingApp session={session} />}
  </SmartApp>,
);
