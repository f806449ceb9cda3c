/**
 * The clinic managers' analytics app. Clinic-wide numbers are shown only to roles the server lets
 * see the whole clinic; anyone else is told why, instead of seeing totals narrowed to their own
 * records that would look like the clinic's.
 */
import { Alert } from '@mantine/core';
import type { Session } from '../shared/AppShell.tsx';
import { Dashboard } from './Dashboard.tsx';
import { mayQueryClinicWide, roleOf } from './role.ts';

export function AnalyticsApp({ session }: { session: Session }) {
  const role = roleOf(session.accessToken);
  if (!mayQueryClinicWide(role)) {
    return (
      <Alert color="yellow" title="Analytics are for clinic managers" role="alert">
        Your account ({role ?? 'unknown role'}) may not see figures across all patients. Clinic-wide
        analytics are available to administrators; please sign in with a manager account.
      </Alert>
    );
  }
  return <Dashboard medplum={session.medplum} />;
}
