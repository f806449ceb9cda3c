import { createRoot } from 'react-dom/client';
import { SmartApp } from '../shared/AppShell.tsx';
import { ChartingApp } from './ChartingApp.tsx';

/**
 * Clinicians (gp, specialist, nurse, ...) sign in as users: `user/*.cruds` asks for everything,
 * and the server narrows it to what the role allows (clinicians: crus on clinical types) and to
 * the patients they have a care relationship with (CONTRACT "Clinical rules").
 */
const SCOPE = 'openid fhirUser user/*.cruds offline_access';

createRoot(document.getElementById('root') as HTMLElement).render(
  <SmartApp app="charting" title="Clinical chart" scope={SCOPE}>
    {(session) => <ChartingApp session={session} />}
  </SmartApp>,
);
