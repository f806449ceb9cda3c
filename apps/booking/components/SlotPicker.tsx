/**
 * Step 2 and 3: choose a day, one of the provider's free 30-minute slots, give a reason, book.
 * The server decides: a slot taken meanwhile (409) or a broken rule (422, e.g. a specialist
 * without referral) is shown with the server's message, and the slots are read again.
 */
import { Alert, Anchor, Button, Checkbox, Group, Loader, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import { useCallback, useEffect, useRef, useState } from 'react';
import { bookSlot, videoLink } from '../appointments.ts';
import { freeSlotsOn, nextFreeSlot, type Provider } from '../directory.ts';
import { clockTime, dateAndTime, localDay, nameOf } from '../format.ts';
import { ServerError } from './ServerError.tsx';

interface Props {
  provider: Provider;
  patient: string;
  onBack: () => void;
}

export function SlotPicker({ provider, patient, onBack }: Props) {
  const medplum = useMedplum();
  const [day, setDay] = useState(() => localDay(new Date()));
  const [slots, setSlots] = useState<Slot[]>();
  const [chosen, setChosen] = useState<Slot>();
  const [reason, setReason] = useState('');
  const [video, setVideo] = useState(false);
  const [booking, setBooking] = useState(false);
  const [booked, setBooked] = useState<Appointment>();
  const [loadError, setLoadError] = useState<unknown>();
  const [bookError, setBookError] = useState<unknown>();
  const roleId = provider.role.id as string;
  const name = nameOf(provider.practitioner);

  // Only the latest load may show its answer: an earlier day's slower answer arriving after the
  // day changed would otherwise list that day's times under the new day (and book one of them).
  const latestLoad = useRef(0);
  const loadSlots = useCallback(async () => {
    const load = ++latestLoad.current;
    setSlots(undefined);
    setChosen(undefined);
    setLoadError(undefined);
    if (!day) return setSlots([]);
    try {
      const found = await freeSlotsOn(medplum, roleId, day);
      if (load === latestLoad.current) setSlots(found);
    } catch (e) {
      if (load === latestLoad.current) setLoadError(e);
    }
  }, [medplum, roleId, day]);

  useEffect(() => {
    loadSlots();
  }, [loadSlots]);

  async function book() {
    if (!chosen) return;
    setBooking(true);
    setBooked(undefined);
    setBookError(undefined);
    try {
      setBooked(await bookSlot(medplum, { patient, provider, slot: chosen, reason, video }));
      setReason('');
    } catch (e) {
      setBookError(e);
    } finally {
      setBooking(false);
    }
    await loadSlots();
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={4}>Free times of {name} at {provider.location?.name ?? provider.organization?.name}</Title>
        <Button variant="subtle" onClick={onBack}>Back to search</Button>
      </Group>
      {booked && <BookedNotice appointment={booked} provider={name} />}
      <ServerError title="The booking was refused" error={bookError} />
      <TextInput
        type="date" label="Day" value={day} min={localDay(new Date())} onChange={(e) => setDay(e.currentTarget.value)} w={220}
        description={`Times in your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone})`}
      />
      <ServerError title="Could not load the free times" error={loadError} />
      {!slots && !loadError && <Loader size="sm" aria-label="Loading free times" />}
      {slots?.length === 0 && <NoFreeTimes roleId={roleId} onPickDay={setDay} />}
      {!!slots?.length && (
        <Group gap="xs" role="group" aria-label="Free times">
          {slots.map((s) => (
            <Button key={s.id} size="xs" variant={chosen?.id === s.id ? 'filled' : 'outline'} aria-pressed={chosen?.id === s.id} onClick={() => setChosen(s)}>
              {clockTime(s.start)}
            </Button>
          ))}
        </Group>
      )}
      <Textarea label="Reason for the visit" value={reason} onChange={(e) => setReason(e.currentTarget.value)} autosize minRows={2} />
      <Checkbox label="Video consultation" checked={video} onChange={(e) => setVideo(e.currentTarget.checked)} />
      <Group>
        <Button onClick={book} disabled={!chosen} loading={booking}>
          {chosen ? `Book ${clockTime(chosen.start)}` : 'Choose a time'}
        </Button>
      </Group>
    </Stack>
  );
}

/** The confirmation, saying plainly whether the provider still has to accept. */
function BookedNotice({ appointment, provider }: { appointment: Appointment; provider: string }) {
  const waiting = appointment.status === 'proposed';
  const link = videoLink(appointment);
  return (
    <Alert color={waiting ? 'yellow' : 'green'} title={waiting ? 'Request sent' : 'Appointment booked'} role="status">
      <Text>
        {waiting ? `${provider} confirms bookings by hand; your request for ` : `You are booked with ${provider} on `}
        {dateAndTime(appointment.start)}
        {waiting ? ' waits for their answer.' : '.'}
      </Text>
      {link && <Anchor href={link} target="_blank" rel="noreferrer">Video call link</Anchor>}
    </Alert>
  );
}

/** An empty day: says so, and offers the day of the provider's next free time. */
function NoFreeTimes({ roleId, onPickDay }: { roleId: string; onPickDay: (day: string) => void }) {
  const medplum = useMedplum();
  const [next, setNext] = useState<Slot | null>();
  useEffect(() => {
    nextFreeSlot(medplum, roleId).then((s) => setNext(s ?? null), () => setNext(null));
  }, [medplum, roleId]);
  return (
    <Group>
      <Text>No free times on this day.</Text>
      {next && (
        <Button variant="light" size="xs" onClick={() => onPickDay(localDay(new Date(next.start)))}>
          Next free time: {dateAndTime(next.start)}
        </Button>
      )}
      {next === null && <Text c="dimmed">This provider has no free times at the moment.</Text>}
    </Group>
  );
}
