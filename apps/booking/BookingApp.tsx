/**
 * The patient's booking app: find a provider, pick a free slot and book it, and see or cancel
 * one's appointments. Every rule (who may book what, no double-booking) is the server's; the app
 * shows the server's answer.
 */
import { Alert, Stack, Tabs } from '@mantine/core';
import { useState } from 'react';
import type { Session } from '../shared/AppShell.tsx';
import type { Provider } from './directory.ts';
import { MyAppointments } from './components/MyAppointments.tsx';
import { ProviderSearch } from './components/ProviderSearch.tsx';
import { SlotPicker } from './components/SlotPicker.tsx';

/** "Patient/123" of the signed-in patient: the launch's patient context, else their own fhirUser. */
function patientOf(session: Session): string | undefined {
  if (session.patientId) return `Patient/${session.patientId}`;
  return session.fhirUser?.startsWith('Patient/') ? session.fhirUser : undefined;
}

export function BookingApp({ session }: { session: Session }) {
  const [tab, setTab] = useState<string | null>('book');
  const [provider, setProvider] = useState<Provider>();
  const patient = patientOf(session);

  return (
    <Stack>
      {!patient ? (
        <Alert color="yellow" title="Patients only" role="alert">
          This app books visits for patients. Sign in with a patient account.
        </Alert>
      ) : (
        // Panels unmount when hidden, so "My appointments" reads the list afresh each time it opens.
        <Tabs value={tab} onChange={setTab} keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="book">Book a visit</Tabs.Tab>
            <Tabs.Tab value="mine">My appointments</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="book" pt="md">
            {provider ? (
              <SlotPicker provider={provider} patient={patient} onBack={() => setProvider(undefined)} />
            ) : (
              <ProviderSearch onChoose={setProvider} />
            )}
          </Tabs.Panel>
          <Tabs.Panel value="mine" pt="md">
            <MyAppointments patient={patient} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}
