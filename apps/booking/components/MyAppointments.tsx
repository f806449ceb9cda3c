/**
 * Step 4: the patient's appointments — upcoming ones first (soonest first), then past and
 * cancelled ones (newest first) — with provider, centre, status, video link and a Cancel action.
 */
import { Loader, Stack, Text, Title } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import { useCallback, useEffect, useState } from 'react';
import { isCancellable, myAppointments, type AppointmentView } from '../appointments.ts';
import { AppointmentCard } from './AppointmentCard.tsx';
import { ServerError } from './ServerError.tsx';

const startOf = (v: AppointmentView) => Date.parse(v.appointment.start ?? '') || 0;

export function MyAppointments({ patient }: { patient: string }) {
  const medplum = useMedplum();
  const [views, setViews] = useState<AppointmentView[]>();
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    setError(undefined);
    try {
      setViews(await myAppointments(medplum, patient));
    } catch (e) {
      setError(e);
    }
  }, [medplum, patient]);

  useEffect(() => {
    load();
  }, [load]);

  if (error) return <ServerError title="Could not load your appointments" error={error} />;
  if (!views) return <Loader size="sm" aria-label="Loading your appointments" />;
  if (views.length === 0) return <Text>You have no appointments yet.</Text>;

  const upcoming = views.filter((v) => isCancellable(v.appointment)).sort((a, b) => startOf(a) - startOf(b));
  const others = views.filter((v) => !isCancellable(v.appointment)).sort((a, b) => startOf(b) - startOf(a));
  return (
    <Stack>
      <Title order={4}>Upcoming</Title>
      {upcoming.length === 0 && <Text>No upcoming appointments.</Text>}
      {upcoming.map((v) => <AppointmentCard key={v.appointment.id} view={v} onChanged={load} />)}
      {others.length > 0 && <Title order={4}>Past and cancelled</Title>}
      {others.map((v) => <AppointmentCard key={v.appointment.id} view={v} onChanged={load} />)}
    </Stack>
  );
}
