/** A refusal or failure, shown with the server's own words (its OperationOutcome text). */
import { Alert } from '@mantine/core';
import { serverMessage } from '../../shared/server-message.ts';

export function ServerError({ title, error }: { title: string; error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {serverMessage(error)}
    </Alert>
  );
}
