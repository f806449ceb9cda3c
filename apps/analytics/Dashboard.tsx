/**
 * The manager's dashboard over the last 12 months: visits per month by status, visits per centre
 * and per provider, diagnoses (de-identified counts), visit reasons, new patients per month and
 * money. Each panel loads on its own, so a refusal for one kind of data (shown in the server's
 * words) leaves the others usable.
 */
import { NativeSelect, SimpleGrid, Stack, Text } from '@mantine/core';
import type { MedplumClient } from '@medplum/core';
import type { Appointment } from '@medplum/fhirtypes';
import { ResourceName } from '@medplum/react';
import { useMemo, useState } from 'react';
import { CountTable } from './components/CountTable.tsx';
import { DiagnosesPanel } from './components/DiagnosesPanel.tsx';
import { MoneySummary } from './components/MoneySummary.tsx';
import { Section } from './components/Section.tsx';
import { VisitsChart } from './components/VisitsChart.tsx';
import { appointmentsIn, centres, diagnosesIn, invoicesIn, patientsCreatedIn } from './fetch.ts';
import { lastTwelveMonths, monthLabel } from './months.ts';
import { atCentre, byParticipant, byProvider, moneyTotals, newPatientsByMonth, topReasons, visitsByMonth } from './stats.ts';
import { useLoad, type Loaded } from './useLoad.ts';

export function Dashboard({ medplum }: { medplum: MedplumClient }) {
  const period = useMemo(() => lastTwelveMonths(), []);
  const appointments = useLoad(() => appointmentsIn(medplum, period), [medplum, period]);
  const locations = useLoad(() => centres(medplum), [medplum]);
  const patients = useLoad(() => patientsCreatedIn(medplum, period), [medplum, period]);
  const invoices = useLoad(() => invoicesIn(medplum, period), [medplum, period]);
  const [centre, setCentre] = useState('');
  // Diagnoses are counted by the server, so the centre filter is a new request there.
  const diagnoses = useLoad(() => diagnosesIn(medplum, period, centre || undefined), [medplum, period, centre]);

  const centreNames = new Map(locations.status === 'done' ? locations.data.map((l) => [`Location/${l.id}`, l.name ?? `Location/${l.id}`]) : []);
  // The centre filter narrows every appointment panel (rows already loaded; no new request).
  const visits: Loaded<Appointment[]> = appointments.status === 'done'
    ? { status: 'done', data: appointments.data.filter((a) => atCentre(a, centre || undefined)) }
    : appointments;

  return (
    <Stack>
      <Text c="dimmed">
        {monthLabel(period.months[0])} – {monthLabel(period.months[11])}
      </Text>
      <NativeSelect
        label="Centre"
        maw={360}
        value={centre}
        onChange={(e) => setCentre(e.currentTarget.value)}
        data={[{ value: '', label: 'All centres' }, ...[...centreNames].map(([value, label]) => ({ value, label }))]}
      />
      <Section title="Visits per month" loaded={visits}>
        {(data) => <VisitsChart rows={visitsByMonth(data, period.months)} />}
      </Section>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section title="Visits per centre" loaded={visits}>
          {(data) => (
            <CountTable caption="Visits per centre" labelHeader="Centre" empty="No visits in the last 12 months."
              rows={byParticipant(data, 'Location').map((t) => ({ key: t.key, label: centreNames.get(t.key) ?? t.key, count: t.count }))} />
          )}
        </Section>
        <Section title="Visits per provider" loaded={visits}>
          {(data) => (
            <CountTable caption="Visits per provider" labelHeader="Provider" empty="No visits in the last 12 months."
              rows={byProvider(data).map((t) => ({ key: t.key, label: <ResourceName value={{ reference: t.key }} />, count: t.count }))} />
          )}
        </Section>
        <Section title="Visit reasons" loaded={visits}>
          {(data) => (
            <CountTable caption="Top visit reasons" labelHeader="Reason" empty="No visit reasons recorded in the last 12 months."
              rows={topReasons(data).map((t) => ({ key: t.key, label: t.key, count: t.count }))} />
          )}
        </Section>
        <Section title="New patients per month" loaded={patients}>
          {(data) => (
            <CountTable caption="New patients per month" labelHeader="Month" empty="No months to show."
              rows={newPatientsByMonth(period.months, data).map((t) => ({ key: t.key, label: monthLabel(t.key), count: t.count }))} />
          )}
        </Section>
      </SimpleGrid>
      <Section title="Diagnoses" loaded={diagnoses}>
        {(data) => <DiagnosesPanel diagnoses={data} months={period.months} />}
      </Section>
      <Section title="Money" loaded={invoices}>
        {(data) => <MoneySummary totals={moneyTotals(data)} />}
      </Section>
    </Stack>
  );
}
