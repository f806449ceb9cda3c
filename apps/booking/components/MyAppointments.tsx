/**
 * Step 4: the patient's appointments — upcoming ones first (soonest first), then past and
 * cancelled ones (newest first) — with provider, centre, status, video link and a Cancel action;
 * the latest visit that took place with each provider offers rating them.
 */
import { Loader, Stack, Text, Title } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import { useCallback, useEffect, useState } from 'react';
import type { Basic } from '@medplum/fhirtypes';
import { isCancellable, myAppointments, type AppointmentView } from '../appointments.ts';
import { myRatings } from '../ratings.ts';
import { AppointmentCard } from './AppointmentCard.tsx';
import { ServerError } from './ServerError.tsx';

const startOf = (v: AppointmentView) => Date.parse(v.appointment.start ?? '') || 0;

/** A visit that took place: attended, or booked and already begun (not yet marked attended). */
const tookPlace = (v: AppointmentView) => v.appointment.status === 'fulfilled' || (v.appointment.status === 'booked' && startOf(v) <= Date.now());

export function MyAppointments({ patient }: { patient: string }) {
  const medplum = useMedplum();
  const [views, setViews] = useState<AppointmentView[]>();
  const [ratings, setRatings] = useState<Map<string, Basic>>(new Map());
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    setError(undefined);
    try {
      // Ratings only add to the list: without them (a token from before ratings) it still shows.
      const [appointments, rated] = await Promise.all([myAppointments(medplum, patient), myRatings(medplum, patient).catch(() => new Map<string, Basic>())]);
      setViews(appointments);
      setRatings(rated);
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
  // The newest visit that took place with each provider is where they can be rated.
  const ratable = new Set<string>();
  const seen = new Set<string>();
  for (const v of others) {
    const who = v.practitioner?.id;
    if (who && tookPlace(v) && !seen.has(who)) {
      seen.add(who);
      ratable.add(v.appointment.id as string);
    }
  }
  const ratingOf = (v: AppointmentView) =>
    ratable.has(v.appointment.id as string)
      ? { patient, current: ratings.get(`Practitioner/${v.practitioner?.id}`), onRated: load }
      : undefined;
  return (
    <Stack>
      <Title order={4}>Upcoming</Title>
      {upcoming.length === 0 && <Text>No upcoming appointments.</Text>}
      {upcoming.map((v) => <AppointmentCard key={v.appointment.id} view={v} onChanged={load} />)}
      {others.length > 0 && <Title order={4}>Past and cancelled</Title>}
      {others.map((v) => <AppointmentCard key={v.appointment.id} view={v} onChanged={load} rating={ratingOf(v)} />)}
    </Stack>
  );
}
