/** Invoiced, paid and unpaid totals over the window, from the clinic's Invoices. */
import { Group, Paper, Text } from '@mantine/core';
import type { MoneyTotals } from '../stats.ts';

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <Paper withBorder p="sm" miw={160}>
      <Text size="sm" c="dimmed" id={`figure-${label}`}>{label}</Text>
      <Text size="xl" fw={700} aria-labelledby={`figure-${label}`}>{value}</Text>
    </Paper>
  );
}

export function MoneySummary({ totals }: { totals: MoneyTotals }) {
  if (totals.invoices === 0) return <Text c="dimmed">No issued invoices in the last 12 months.</Text>;
  const money = (n: number) => n.toLocaleString('en-AU', { style: 'currency', currency: totals.currency });
  return (
    <Group>
      <Figure label="Invoices" value={String(totals.invoices)} />
      <Figure label="Invoiced" value={money(totals.invoiced)} />
      <Figure label="Paid" value={money(totals.paid)} />
      <Figure label="Unpaid dues" value={money(totals.due)} />
    </Group>
  );
}
