import { Alert } from '@mantine/core';
import { serverMessage } from '../../shared/server-message.ts';

/** A refused or failed request, in the server's own words (its OperationOutcome). */
export function ServerError({ error, title = 'The server refused this request' }: { error: unknown; title?: string }) {
  return (
    <Alert color="red" title={title} role="alert">
      {serverMessage(error)}
    </Alert>
  );
}
