/**
 * A tiny hash router: "#/patient/<id>" is a chart, "#/patient/<id>/visit/<appointment id>" the
 * chart opened for one visit (what is written then belongs to that visit), anything else home.
 */
import { useEffect, useState } from 'react';

export type Route = { page: 'home' } | { page: 'patient'; patientId: string; appointmentId?: string };

const ID = '([A-Za-z0-9\\-.]{1,64})';
const CHART = new RegExp(`^#/patient/${ID}(?:/visit/${ID})?$`);

export function parseRoute(hash: string): Route {
  const m = CHART.exec(hash);
  return m ? { page: 'patient', patientId: m[1], appointmentId: m[2] } : { page: 'home' };
}

export function chartHref(patientId: string, appointmentId?: string): string {
  return appointmentId ? `#/patient/${patientId}/visit/${appointmentId}` : `#/patient/${patientId}`;
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
