/**
 * What every app renders around its pages: Mantine's theme, a MedplumClient (used by
 * @medplum/react's components and for FHIR calls) holding the SMART access token, a header with
 * the app's title and a sign-out button, and a clear message while signing in or when it failed.
 */
import '@mantine/core/styles.css';
import '@medplum/react/styles.css';
import { AppShell as MantineShell, Alert, Button, Group, Loader, MantineProvider, Text, Title } from '@mantine/core';
import { ClientStorage, MedplumClient, MemoryStorage } from '@medplum/core';
import { MedplumProvider } from '@medplum/react';
import { useEffect, useState, type ReactNode } from 'react';
import { launch, signOut, type AppName, type Launched } from './smart.ts';

export interface Session extends Launched {
  medplum: MedplumClient;
}

export function SmartApp(props: { app: AppName; title: string; scope: string; children: (session: Session) => ReactNode }) {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    launch(props.app, props.scope).then(
      (launched) => {
        const medplum = new MedplumClient({
          baseUrl: `${window.location.origin}/`,
          fhirUrlPath: 'fhir',
          storage: new ClientStorage(new MemoryStorage()),
          cacheTime: 0,
        });
        medplum.setAccessToken(launched.accessToken);
        setSession({ ...launched, medplum });
      },
      (err: Error) => setError(err.message || String(err)),
    );
  }, [props.app, props.scope]);

  return (
    <MantineProvider>
      <MantineShell header={{ height: 56 }} padding="md">
        <MantineShell.Header>
          <Group h="100%" px="md" justify="space-between">
            <Title order={3}>{props.title}</Title>
            {session && (
              <Group gap="sm">
                {session.userName && <Text size="sm" c="dimmed">Signed in as {session.userName}</Text>}
                <Button variant="subtle" onClick={() => signOut(props.app)}>
                  Sign out
                </Button>
              </Group>
            )}
          </Group>
        </MantineShell.Header>
        <MantineShell.Main>
          {error && (
            <Alert color="red" title="Sign-in failed" role="alert">
              {error}
            </Alert>
          )}
          {!error && !session && <Loader aria-label="Signing in" />}
          {session && <MedplumProvider medplum={session.medplum}>{props.children(session)}</MedplumProvider>}
        </MantineShell.Main>
      </MantineShell>
    </MantineProvider>
  );
}
