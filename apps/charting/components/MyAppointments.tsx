/** "My patients": the clinician's appointments from a chosen day on, each opening the patient's chart. */
import { Badge, Button, Card, Group, Loader, Stack, Switch, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { Session } from '../../shared/AppShell.tsx';
import { myAppointments, today, type AppointmentRow } from '../appointments.ts';
import { displayName, formatDateTime, useLoaded } from '../fhir.ts';
import { chartHref } from '../route.ts';
import { RefusalAlert } from './RefusalAlert.tsx';

export function MyAppointments({ session }: { session: Session }) {
  const [day, setDay] = useState(today());
  const [onlyThatDay, setOnlyThatDay] = useState(false);
  const me = session.fhirUser as string;
  const rows = useLoaded(() => myAppointments(session.medplum, me, day || today(), onlyThatDay), [session.medplum, me, day, onlyThatDay]);

  return (
    <Stack component="section" aria-label="My appointments">
      <Group justify="space-between" align="end">
        <Title order={2}>My appointments</Title>
        <Group align="end">
          <TextInput type="date" label={onlyThatDay ? 'Day' : 'From'} value={day} onChange={(e) => setDay(e.currentTarget.value)} />
          <Switch label="Only this day" checked={onlyThatDay} onChange={(e) => setOnlyThatDay(e.currentTarget.checked)} mb={8} />
        </Group>
      </Group>
      <RefusalAlert title="Your appointments could not be loaded" message={rows.error} />
      {rows.loading && <Loader aria-label="Loading appointments" size="sm" />}
      {!rows.loading && rows.data?.length === 0 && <Text c="dimmed">{onlyThatDay ? 'No appointments on this day.' : 'No appointments from this day on.'}</Text>}
      {rows.data?.map((row) => <AppointmentItem key={row.appointment.id} row={row} />)}
    </Stack>
  );
}

function AppointmentItem({ row }: { row: AppointmentRow }) {
  const { appointment, patient, patientId } = row;
  const name = patient ? displayName(patient.name) : 'a patient';
  const when = formatDateTime(appointment.start);
  return (
    <Card withBorder component="article" aria-label={`Appointment on ${when} with ${name}`}>
      <Group justify="space-between">
        <Stack gap={2}>
          <Text fw={600}>{name}</Text>
          <Text size="sm">{when}</Text>
          {appointment.description && <Text size="sm" c="dimmed">{appointment.description}</Text>}
        </Stack>
        <Group>
          <Badge variant="light">{appointment.status}</Badge>
          {patientId && (
            <Button component="a" href={chartHref(patientId, appointment.id)} aria-label={`Open chart of ${name}`}>
              Open chart
            </Button>
          )}
        </Group>
      </Group>
    </Card>
  );
}
