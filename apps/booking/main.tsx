import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { BookingApp } from './BookingApp.tsx';

// A patient reads the directory (Practitioner, PractitionerRole, Location, Slot...) with any
// patient token (CONTRACT), so the app asks only for its own Patient and Appointments: book
// (create), list (read, search) and cancel (update). Patients may not delete appointments.
const SCOPE = 'openid fhirUser launch/patient patient/Patient.rs patient/Appointment.crus offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="booking" title="Book a visit" scope={SCOPE}>
    {(session) => <BookingApp session={session} />}
  </SmartApp>,
);
