/**
 * Diagnoses recorded in the window: the most frequent ones with their counts, and the records per
 * month. The numbers come de-identified from the server: rare diagnoses are not named, only
 * counted together (said below the table).
 */
import { SimpleGrid, Stack, Text } from '@mantine/core';
import type { Diagnoses } from '../fetch.ts';
import { monthLabel } from '../months.ts';
import { CountTable } from './CountTable.tsx';

export function DiagnosesPanel({ diagnoses, months }: { diagnoses: Diagnoses; months: string[] }) {
  const { rows, suppressed, minimumPatients } = diagnoses;
  const perMonth = months.map((m) => ({ key: m, label: monthLabel(m), count: rows.reduce((n, r) => n + (r.months.get(m) ?? 0), 0) }));
  return (
    <Stack>
      {/* Each table in its own box, so the shorter one keeps its own height. */}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <div>
          <CountTable caption="Diagnoses" labelHeader="Diagnosis" empty="No diagnosis recorded often enough to name in the last 12 months."
            rows={rows.slice(0, 15).map((r) => ({ key: r.key, label: r.label, count: r.count }))} />
        </div>
        <div>
          <CountTable caption="Named diagnoses per month" labelHeader="Month" empty="No months to show." rows={rows.length ? perMonth : []} />
        </div>
      </SimpleGrid>
      {suppressed.count > 0 && (
        <Text size="sm" c="dimmed">
          {suppressed.count} {suppressed.count === 1 ? 'record' : 'records'} of {suppressed.diagnoses}{' '}
          {suppressed.diagnoses === 1 ? 'diagnosis' : 'diagnoses'} seen in fewer than {minimumPatients} patients
          {suppressed.diagnoses === 1 ? ' is' : ' are'} counted here but not named, so that no patient can be recognised.
        </Text>
      )}
    </Stack>
  );
}
