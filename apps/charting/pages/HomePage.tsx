/** The clinician's start page: their appointments (each opening the patient's chart) and a patient search. */
import { Stack } from '@mantine/core';
import type { Session } from '../../shared/AppShell.tsx';
import { MyAppointments } from '../components/MyAppointments.tsx';
import { PatientSearch } from '../components/PatientSearch.tsx';

export function HomePage({ session }: { session: Session }) {
  return (
    <Stack gap="xl">
      <MyAppointments session={session} />
      <PatientSearch session={session} />
    </Stack>
  );
}
