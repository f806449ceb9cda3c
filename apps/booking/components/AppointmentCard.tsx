/**
 * One appointment: when, with whom, where, its status, the video link, and cancelling it (asked
 * twice, so a stray click cancels nothing). The server frees the slot when it is cancelled. The
 * latest past visit with a provider also offers rating them.
 */
import { Anchor, Badge, Button, Card, Group, Stack, Text } from '@mantine/core';
import { useMedplum } from '@medplum/react';
import type { Basic } from '@medplum/fhirtypes';
import { useState } from 'react';
import { cancelAppointment, isCancellable, videoLink, type AppointmentView } from '../appointments.ts';
import { dateAndTime, nameOf } from '../format.ts';
import { RateProvider } from './RateProvider.tsx';
import { ServerError } from './ServerError.tsx';

const STATUS_LABELS: Record<string, { label: string; color: string }> = {
  booked: { label: 'Booked', color: 'green' },
  proposed: { label: 'Waiting for confirmation', color: 'yellow' },
  pending: { label: 'Held', color: 'yellow' },
  cancelled: { label: 'Cancelled', color: 'gray' },
  fulfilled: { label: 'Attended', color: 'blue' },
  noshow: { label: 'Missed', color: 'red' },
};

/** Rating the visit's provider: who rates, their current rating of the provider, what to do after. */
export interface CardRating {
  patient: string;
  current?: Basic;
  onRated: () => void;
}

export function AppointmentCard({ view, onChanged, rating }: { view: AppointmentView; onChanged: () => void; rating?: CardRating }) {
  const medplum = useMedplum();
  const { appointment } = view;
  const [confirming, setConfirming] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<unknown>();
  const when = dateAndTime(appointment.start);
  const provider = nameOf(view.practitioner);
  const centre = view.location?.name ?? 'Unknown centre';
  const status = STATUS_LABELS[appointment.status] ?? { label: appointment.status, color: 'gray' };
  const link = appointment.status === 'booked' ? videoLink(appointment) : undefined;

  async function cancel() {
    setCancelling(true);
    setError(undefined);
    try {
      await cancelAppointment(medplum, appointment.id as string);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setCancelling(false);
      setConfirming(false);
    }
  }

  return (
    <Card withBorder component="article" aria-label={`Appointment on ${when}`}>
      <Stack gap={4}>
        <Group justify="space-between">
          <Text fw={600}>{when}</Text>
          <Badge color={status.color}>{status.label}</Badge>
        </Group>
        <Text>{provider} · {centre}</Text>
        {appointment.description && <Text size="sm" c="dimmed">Reason: {appointment.description}</Text>}
        {link && <Anchor href={link} target="_blank" rel="noreferrer">Join the video call</Anchor>}
        {rating && view.practitioner && (
          <RateProvider
            patient={rating.patient}
            practitioner={`Practitioner/${view.practitioner.id}`}
            providerName={provider}
            current={rating.current}
            onRated={rating.onRated}
          />
        )}
        <ServerError title="The appointment was not cancelled" error={error} />
        {isCancellable(appointment) && !confirming && (
          <Group>
            <Button variant="light" color="red" size="xs" onClick={() => setConfirming(true)}>Cancel appointment</Button>
          </Group>
        )}
        {confirming && (
          <Group>
            <Text size="sm">Cancel this appointment?</Text>
            <Button color="red" size="xs" loading={cancelling} onClick={cancel}>Yes, cancel it</Button>
            <Button variant="subtle" size="xs" onClick={() => setConfirming(false)}>Keep it</Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}
