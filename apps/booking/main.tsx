import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { BookingApp } from './BookingApp.tsx';

const SCOPE = 'openid fhirUser launch/patient patient/*.cruds user/*.rs offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="booking" title="Book a visit" scope={SCOPE}>
    {(session) => <BookingApp session={session} />}
  </SmartApp>,
);
