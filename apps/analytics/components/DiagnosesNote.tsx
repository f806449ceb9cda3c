import { Alert } from '@mantine/core';

/**
 * Why there are no diagnosis counts: Condition records are clinical, and the server shares them
 * only with each patient's treating providers, never with managers. A Condition search would
 * answer an empty list, which would read as "no diagnoses": we show this instead.
 */
export function DiagnosesNote() {
  return (
    <Alert color="gray" title="Diagnoses are not shared with managers">
      Diagnoses (Condition records) are clinical data: the server shows them only to the providers
      treating each patient, so the dashboard cannot count them. The reasons patients gave when
      booking are counted instead.
    </Alert>
  );
}
