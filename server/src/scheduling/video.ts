/**
 * Video visits: a confirmed video appointment gets a room URL on VIDEO_BASE_URL that nobody can
 * guess (128 random bits), stored as the R5 `virtualService` cross-version extension.
 */
import { randomBytes } from 'node:crypto';
import type { Appointment } from '@medplum/fhirtypes';
import { VIRTUAL_SERVICE_URL, VISIT_TYPE_SYSTEM } from './codes.ts';
import { schedulingSettings } from './settings.ts';

export function isVideoVisit(a: Appointment): boolean {
  return (a.appointmentType?.coding ?? []).some((c) => c.system === VISIT_TYPE_SYSTEM && c.code === 'video');
}

export function videoRoomUrl(a: Appointment): string | undefined {
  return a.extension?.find((e) => e.url === VIRTUAL_SERVICE_URL)?.extension?.find((e) => e.url === 'addressUrl')?.valueUrl;
}

/** Adds a room to a video appointment that has none (an existing room is kept). */
export function addVideoRoom(a: Appointment): Appointment {
  if (videoRoomUrl(a)) return a;
  const room = `${schedulingSettings().videoBaseUrl}/clinic-${randomBytes(16).toString('base64url')}`;
  return {
    ...a,
    extension: [
      ...(a.extension ?? []).filter((e) => e.url !== VIRTUAL_SERVICE_URL),
      {
        url: VIRTUAL_SERVICE_URL,
        extension: [
          { url: 'channelType', valueCoding: { system: 'http://hl7.org/fhir/virtual-service-type', code: 'jitsi', display: 'Jitsi' } },
          { url: 'addressUrl', valueUrl: room },
        ],
      },
    ],
  };
}
