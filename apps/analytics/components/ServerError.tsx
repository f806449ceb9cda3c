import { Alert } from '@mantine/core';
import { normalizeErrorString } from '@medplum/core';

/** A refused or failed request, in the server's own words (its OperationOutcome). */
export function ServerError({ error, title = 'The server refused this request' }: { error: unknown; title?: string }) {
  return (
    <Alert color="red" title={title} role="alert">
      {normalizeErrorString(error)}
    </Alert>
  );
}
