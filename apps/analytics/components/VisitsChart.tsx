/**
 * Visits per month, split by status: a table of the counts with a stacked bar per month
 * (bars scaled to the busiest month; colours explained by the column headers' swatches).
 */
import { Box, Group, Table } from '@mantine/core';
import { monthLabel } from '../months.ts';
import type { MonthRow, VisitStatus } from '../stats.ts';

const COLUMNS: { status: VisitStatus; label: string; color: string }[] = [
  { status: 'booked', label: 'Booked', color: 'var(--mantine-color-blue-6)' },
  { status: 'fulfilled', label: 'Fulfilled', color: 'var(--mantine-color-green-6)' },
  { status: 'cancelled', label: 'Cancelled', color: 'var(--mantine-color-gray-5)' },
  { status: 'noshow', label: 'No-show', color: 'var(--mantine-color-red-6)' },
  { status: 'other', label: 'Other', color: 'var(--mantine-color-yellow-5)' },
];

function Swatch({ color }: { color: string }) {
  return <Box w={10} h={10} bg={color} style={{ borderRadius: 2 }} aria-hidden />;
}

function StackedBar({ row, max }: { row: MonthRow; max: number }) {
  return (
    <Group gap={0} w={`${(100 * row.total) / max}%`} h={12} wrap="nowrap" aria-hidden>
      {COLUMNS.filter((c) => row.counts[c.status] > 0).map((c) => (
        <Box key={c.status} h="100%" bg={c.color} style={{ flexGrow: row.counts[c.status] }} />
      ))}
    </Group>
  );
}

export function VisitsChart({ rows }: { rows: MonthRow[] }) {
  const max = Math.max(1, ...rows.map((r) => r.total));
  return (
    <Table striped withTableBorder captionSide="top">
      <Table.Caption>Visits per month</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Month</Table.Th>
          {COLUMNS.map((c) => (
            <Table.Th key={c.status} ta="right">
              <Group gap={4} justify="flex-end" wrap="nowrap"><Swatch color={c.color} />{c.label}</Group>
            </Table.Th>
          ))}
          <Table.Th ta="right">Total</Table.Th>
          <Table.Th w="30%" aria-hidden />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((r) => (
          <Table.Tr key={r.month}>
            <Table.Td>{monthLabel(r.month)}</Table.Td>
            {COLUMNS.map((c) => <Table.Td key={c.status} ta="right">{r.counts[c.status]}</Table.Td>)}
            <Table.Td ta="right">{r.total}</Table.Td>
            <Table.Td aria-hidden><StackedBar row={r} max={max} /></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
