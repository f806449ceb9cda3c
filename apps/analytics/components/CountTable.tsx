/**
 * A bar chart that is also a table: one row per item with its label, its count and a bar sized
 * against the largest count. The numbers live in the table (read by screen readers and tests);
 * the bars are decoration.
 */
import { Box, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export interface CountRow {
  key: string;
  label: ReactNode;
  count: number;
}

export function CountTable(props: { caption: string; labelHeader: string; rows: CountRow[]; empty: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.count));
  if (props.rows.length === 0) return <Text c="dimmed">{props.empty}</Text>;
  return (
    <Table striped withTableBorder captionSide="top">
      <Table.Caption>{props.caption}</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{props.labelHeader}</Table.Th>
          <Table.Th ta="right">Count</Table.Th>
          <Table.Th w="45%" aria-hidden />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {props.rows.map((r) => (
          <Table.Tr key={r.key}>
            <Table.Td>{r.label}</Table.Td>
            <Table.Td ta="right">{r.count}</Table.Td>
            <Table.Td aria-hidden>
              <Box h={12} w={`${(100 * r.count) / max}%`} bg="blue.6" style={{ borderRadius: 3 }} />
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
