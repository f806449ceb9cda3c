import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { ChartingApp } from './ChartingApp.tsx';

const SCOPE = 'openid fhirUser launch/patient patient/*.cruds user/*.rs offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="charting" title="Book a visit" scope={SCOPE}>
    {(session) => <ChartingApp session={session} />}
  </SmartApp>,
);
