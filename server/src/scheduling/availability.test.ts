import { describe, expect, it } from 'vitest';
import { onSlotBoundary, slotStarts, withinHours } from './availability.ts';
import { formatInZone, offsetMinutes, zonedToUtc } from './time.ts';

const SYD = 'Australia/Sydney';
const allDay = { availableTime: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as any, allDay: true }] };
const office = { availableTime: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as any, availableStartTime: '09:00:00', availableEndTime: '17:00:00' }] };

/** Slots of one local day: [local midnight, next local midnight). */
function dayOf(role: any, y: number, m: number, d: number, tz = SYD): string[] {
  const from = zonedToUtc({ year: y, month: m, day: d }, 0, tz);
  const to = zonedToUtc({ year: y, month: m, day: d + 1 }, 0, tz);
  return slotStarts(role, from, to, tz).map((t) => formatInZone(t, tz));
}

describe('time zone arithmetic', () => {
  it('knows Sydney offsets either side of the 2025 changes', () => {
    expect(offsetMinutes(Date.parse('2025-04-05T12:00:00Z'), SYD)).toBe(660);
    expect(offsetMinutes(Date.parse('2025-04-06T12:00:00Z'), SYD)).toBe(600);
    expect(offsetMinutes(Date.parse('2025-10-05T12:00:00Z'), SYD)).toBe(660);
  });

  it('moves a skipped wall time forward and takes the earlier of a repeated one', () => {
    // 5 Oct 2025: clocks jump 02:00 → 03:00; 02:30 does not exist and reads as 03:30 AEDT.
    expect(formatInZone(zonedToUtc({ year: 2025, month: 10, day: 5 }, 150, SYD), SYD)).toBe('2025-10-05T03:30:00+11:00');
    // 6 Apr 2025: 02:30 happens twice; the first (AEDT) is chosen.
    expect(new Date(zonedToUtc({ year: 2025, month: 4, day: 6 }, 150, SYD)).toISOString()).toBe('2025-04-05T15:30:00.000Z');
    expect(formatInZone(zonedToUtc({ year: 2025, month: 7, day: 1 }, 540, SYD), SYD)).toBe('2025-07-01T09:00:00+10:00');
  });
});

describe('slot generation', () => {
  it('makes 48 half-hour slots on an ordinary day, aligned to :00 and :30', () => {
    const slots = dayOf(allDay, 2025, 7, 1);
    expect(slots).toHaveLength(48);
    expect(slots[0]).toBe('2025-07-01T00:00:00+10:00');
    expect(slots[47]).toBe('2025-07-01T23:30:00+10:00');
  });

  it('has 46 slots on the spring-forward day and none at the skipped hour', () => {
    const slots = dayOf(allDay, 2025, 10, 5);
    expect(slots).toHaveLength(46);
    expect(slots).toContain('2025-10-05T01:30:00+10:00');
    expect(slots).toContain('2025-10-05T03:00:00+11:00');
    expect(slots.some((s) => s.startsWith('2025-10-05T02:'))).toBe(false);
  });

  it('has 50 slots on the fall-back day: the repeated hour twice, each with its own offset', () => {
    const slots = dayOf(allDay, 2025, 4, 6);
    expect(slots).toHaveLength(50);
    expect(slots.filter((s) => s.startsWith('2025-04-06T02:'))).toEqual([
      '2025-04-06T02:00:00+11:00', '2025-04-06T02:30:00+11:00', '2025-04-06T02:00:00+10:00', '2025-04-06T02:30:00+10:00',
    ]);
  });

  it('keeps office hours at 09:00 wall-clock time across the change', () => {
    const sat = dayOf(office, 2025, 10, 4);
    const sun = dayOf(office, 2025, 10, 5);
    expect(sat).toHaveLength(16);
    expect(sun).toHaveLength(16);
    expect(sat[0]).toBe('2025-10-04T09:00:00+10:00');
    expect(sun[0]).toBe('2025-10-05T09:00:00+11:00');
    expect(sun[15]).toBe('2025-10-05T16:30:00+11:00');
    // 23 hours apart in real time, 24 on the clock.
    expect(Date.parse(sun[0]) - Date.parse(sat[0])).toBe(23 * 3_600_000);
  });

  it('works in another zone (New York, 2 Nov 2025 fall-back)', () => {
    const slots = dayOf(office, 2025, 11, 2, 'America/New_York');
    expect(slots[0]).toBe('2025-11-02T09:00:00-05:00');
    expect(slots).toHaveLength(16);
  });

  it('rounds an opening at 09:15 up to 09:30 and never runs a slot past closing', () => {
    const role = { availableTime: [{ daysOfWeek: ['tue'] as any, availableStartTime: '09:15:00', availableEndTime: '11:10:00' }] };
    expect(dayOf(role, 2025, 7, 1).map((s) => s.slice(11, 16))).toEqual(['09:30', '10:00', '10:30']);
  });

  it('leaves out notAvailable periods and days not listed', () => {
    const role = {
      availableTime: [{ daysOfWeek: ['tue'] as any, availableStartTime: '09:00:00', availableEndTime: '11:00:00' }],
      notAvailable: [{ description: 'meeting', during: { start: '2025-07-01T09:30:00+10:00', end: '2025-07-01T10:00:00+10:00' } }],
    };
    expect(dayOf(role, 2025, 7, 1).map((s) => s.slice(11, 16))).toEqual(['09:00', '10:00', '10:30']);
    expect(dayOf(role, 2025, 7, 2)).toEqual([]);
  });

  it('checks boundaries and hours', () => {
    expect(onSlotBoundary(Date.parse('2025-07-01T09:30:00+10:00'), SYD)).toBe(true);
    expect(onSlotBoundary(Date.parse('2025-07-01T09:15:00+10:00'), SYD)).toBe(false);
    // Adelaide is +09:30: 09:00 Sydney is 08:30 there, on a boundary; 09:15 Sydney is 08:45.
    expect(onSlotBoundary(Date.parse('2025-07-01T09:15:00+10:00'), 'Australia/Adelaide')).toBe(false);
    const t = Date.parse('2025-07-01T16:30:00+10:00');
    expect(withinHours(office, t, t + 1_800_000, SYD)).toBe(true);
    expect(withinHours(office, t + 1_800_000, t + 3_600_000, SYD)).toBe(false);
  });
});
