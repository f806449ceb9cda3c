/** A refusal or failure, in the server's own words, announced to assistive technology. */
import { Alert } from '@mantine/core';

export function RefusalAlert({ title, message }: { title: string; message?: string }) {
  if (!message) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {message}
    </Alert>
  );
}
