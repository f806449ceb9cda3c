import { Text } from '@mantine/core';
import type { Session } from '../shared/AppShell.tsx';

export function ChartingApp({ session }: { session: Session }) {
  return <Text>Signed in as {session.fhirUser}</Text>;
}
