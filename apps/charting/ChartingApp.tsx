/**
 * The charting app: the clinician's appointments and patient search ("home"), and one patient's
 * chart at #/patient/<id>. The route lives in the address bar's hash so a chart can be opened by
 * address and survives a reload (the SMART session is kept in sessionStorage).
 */
import { Alert } from '@mantine/core';
import type { Session } from '../shared/AppShell.tsx';
import { useHashRoute } from './route.ts';
import { HomePage } from './pages/HomePage.tsx';
import { PatientChart } from './pages/PatientChart.tsx';

export function ChartingApp({ session }: { session: Session }) {
  const route = useHashRoute();
  if (!session.fhirUser?.startsWith('Practitioner/')) {
    // The charting app is for clinicians; the server would refuse a patient's token anyway.
    return (
      <Alert color="red" title="Clinicians only" role="alert">
        This app is for clinicians. You are signed in as {session.fhirUser ?? 'an unknown user'}.
      </Alert>
    );
  }
  if (route.page === 'patient') return <PatientChart key={window.location.hash} session={session} patientId={route.patientId} appointmentId={route.appointmentId} />;
  return <HomePage session={session} />;
}
