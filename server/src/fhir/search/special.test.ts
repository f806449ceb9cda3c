import { describe, expect, it } from 'vitest';
import { boundingBox, parseNearFilter, positionRows } from './special.ts';

const rad = (d: number) => (d * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;
const R = 6371.0088;

/** The point `km` away from (lat, lon) along `bearing` degrees on the sphere. */
function destination(lat: number, lon: number, km: number, bearing: number): [number, number] {
  const d = km / R;
  const φ1 = rad(lat);
  const θ = rad(bearing);
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(θ));
  const λ2 = rad(lon) + Math.atan2(Math.sin(θ) * Math.sin(d) * Math.cos(φ1), Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
  return [deg(φ2), ((deg(λ2) + 540) % 360) - 180];
}

describe('near bounding box', () => {
  it('holds every point of the circle, wherever it is', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const point = { latitude: random() * 170 - 85, longitude: random() * 360 - 180, km: random() ** 3 * 3000 };
      const box = boundingBox(point);
      // (Points on a circle of radius ~0 may differ from its centre by rounding alone.)
      const eps = 1e-9;
      for (let bearing = 0; bearing < 360; bearing += 7.5) {
        const [lat, lon] = destination(point.latitude, point.longitude, point.km, bearing);
        expect(lat).toBeGreaterThanOrEqual(box.minLatitude - eps);
        expect(lat).toBeLessThanOrEqual(box.maxLatitude + eps);
        if (box.longitude) {
          expect(lon).toBeGreaterThanOrEqual(box.longitude.min - eps);
          expect(lon).toBeLessThanOrEqual(box.longitude.max + eps);
        }
      }
    }
  });

  it('drops the longitude bound near the poles and across the antimeridian', () => {
    expect(boundingBox({ latitude: 88.5, longitude: 0, km: 100 }).longitude).toBeUndefined();
    expect(boundingBox({ latitude: 0, longitude: 179.95, km: 10 }).longitude).toBeUndefined();
    expect(boundingBox({ latitude: -33.9, longitude: 151.2, km: 10 }).longitude).toBeDefined();
  });
});

describe('near values', () => {
  it('reads latitude|longitude|distance|units, km by default', () => {
    expect(parseNearFilter('near', undefined, ['-33.9|151.2|5|km']).points).toEqual([{ latitude: -33.9, longitude: 151.2, km: 5 }]);
    expect(parseNearFilter('near', undefined, ['1|2|500|m']).points[0].km).toBeCloseTo(0.5);
    expect(parseNearFilter('near', undefined, ['1|2|1|[mi_i]']).points[0].km).toBeCloseTo(1.609344);
    expect(parseNearFilter('near', undefined, ['1|2|3']).points[0].km).toBe(3);
    expect(parseNearFilter('near', undefined, ['1|2']).points[0].km).toBe(10);
  });

  it.each(['', 'a|b', '1', '1|2|x', '95|0', '0|-200', '0|0|1|parsec', '0|0|-2', '1e3|0'])('refuses "%s"', (value) => {
    expect(() => parseNearFilter('near', undefined, [value])).toThrow();
  });
});

describe('position rows', () => {
  it('index a Location with a full position only', () => {
    expect(positionRows({ resourceType: 'Location', position: { latitude: -33.9, longitude: 151.2 } })).toEqual([
      { param: 'near:latitude', value: -33.9 },
      { param: 'near:longitude', value: 151.2 },
    ]);
    expect(positionRows({ resourceType: 'Location', position: { longitude: 151.2 } })).toEqual([]);
    expect(positionRows({ resourceType: 'Location' })).toEqual([]);
    expect(positionRows({ resourceType: 'Patient', position: { latitude: 1, longitude: 2 } })).toEqual([]);
  });
});
