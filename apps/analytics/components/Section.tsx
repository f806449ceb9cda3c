/** A dashboard panel: a heading, then a loader, the server's refusal, or the content. */
import { Loader, Paper, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Loaded } from '../useLoad.ts';
import { ServerError } from './ServerError.tsx';

export function Section<T>(props: { title: string; loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  const { loaded } = props;
  return (
    <Paper withBorder p="md" component="section" aria-label={props.title}>
      <Stack gap="sm">
        <Title order={4}>{props.title}</Title>
        {loaded.status === 'loading' && <Loader size="sm" aria-label={`Loading ${props.title.toLowerCase()}`} />}
        {loaded.status === 'failed' && <ServerError error={loaded.error} />}
        {loaded.status === 'done' && props.children(loaded.data)}
      </Stack>
    </Paper>
  );
}
