/**
 * One patient's chart. The Patient is read first: when the server refuses (no appointment with
 * this clinician) its message is shown and nothing else is asked for.
 */
import { Anchor, Loader, Stack, Text, Title } from '@mantine/core';
import type { Patient } from '@medplum/fhirtypes';
import { useMemo } from 'react';
import type { Session } from '../../shared/AppShell.tsx';
import { displayName, formatDateTime, useLoaded } from '../fhir.ts';
import { visitOf, type Visit } from '../visit.ts';
import { RefusalAlert } from '../components/RefusalAlert.tsx';
import { Demographics } from '../components/Demographics.tsx';
import { PatientAppointments } from '../components/PatientAppointments.tsx';
import { ConditionsSection } from '../components/ConditionsSection.tsx';
import { MedicationsSection } from '../components/MedicationsSection.tsx';
import { NotesSection } from '../components/NotesSection.tsx';
import { DocumentsSection } from '../components/DocumentsSection.tsx';

export interface ChartProps {
  session: Session;
  patientId: string;
  /** Set when the chart was opened from an appointment: new entries belong to that visit. */
  visit?: Visit;
}

export function PatientChart({ session, patientId, appointmentId }: Omit<ChartProps, 'visit'> & { appointmentId?: string }) {
  const patient = useLoaded(() => session.medplum.readResource('Patient', patientId), [session.medplum, patientId]);
  const visit = useMemo(
    () => (appointmentId ? visitOf(session.medplum, patientId, session.fhirUser as string, appointmentId) : undefined),
    [session, patientId, appointmentId],
  );
  return (
    <Stack gap="lg">
      <Anchor href="#/">← My appointments</Anchor>
      {patient.loading && <Loader aria-label="Loading the chart" />}
      <RefusalAlert title="This chart cannot be opened" message={patient.error} />
      {patient.data && <ChartSections session={session} patientId={patientId} visit={visit} patient={patient.data} />}
    </Stack>
  );
}

function ChartSections({ session, patientId, visit, patient }: ChartProps & { patient: Patient }) {
  return (
    <>
      <Title order={2}>Chart of {displayName(patient.name)}</Title>
      {visit && <VisitBanner session={session} visit={visit} />}
      <Demographics patient={patient} />
      <NotesSection session={session} patientId={patientId} visit={visit} />
      <ConditionsSection session={session} patientId={patientId} visit={visit} />
      <MedicationsSection session={session} patientId={patientId} visit={visit} />
      <PatientAppointments session={session} patientId={patientId} />
      <DocumentsSection session={session} patientId={patientId} visit={visit} />
    </>
  );
}

/** Which visit new entries will belong to. */
function VisitBanner({ session, visit }: { session: Session; visit: Visit }) {
  const appointment = useLoaded(() => session.medplum.readResource('Appointment', visit.appointmentId), [session.medplum, visit]);
  return (
    <Text role="note">
      {appointment.data ? `Charting the visit of ${formatDateTime(appointment.data.start)}` : 'Charting a visit'}: new notes,
      diagnoses and prescriptions belong to it.
    </Text>
  );
}
