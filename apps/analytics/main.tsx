import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { AnalyticsApp } from './AnalyticsApp.tsx';

const SCOPE = 'openid fhirUser launch/patient patient/*.cruds user/*.rs offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="analytics" title="Book a visit" scope={SCOPE}>
    {(session) => <AnalyticsApp session={session} />}
  </SmartApp>,
);
