import { describe, expect, it } from 'vitest';
import { phoneticCodes, phoneticQueryCodes, phoneticRows } from './phonetic.ts';

describe('phonetic index rows', () => {
  it('index each word of the family and given names as its codes, keeping the name part', () => {
    const rows = phoneticRows('phonetic', 'HumanName', { family: 'Van Smith', given: ['Jon'], prefix: ['Dr'], text: 'Dr Jon Van Smith' });
    expect(rows.map((r) => `${r.value}:${r.exact}`).sort()).toEqual(['AN:Jon', 'FN:Van Smith', 'JN:Jon', 'SM0:Van Smith', 'XMT:Van Smith'].sort());
  });

  it('read accents as the letters under them, and skip digits', () => {
    expect(phoneticRows('phonetic', 'HumanName', { family: 'Ångström590' }).map((r) => r.value)).toEqual(phoneticCodes('angstrom'));
  });

  it('index a plain string (an organisation name) word by word', () => {
    expect(phoneticRows('phonetic', 'string', 'Royal Randwick').map((r) => r.value)).toEqual([...phoneticCodes('royal'), ...phoneticCodes('randwick')]);
  });

  it('give names that sound alike a shared code', () => {
    const share = (a: string, b: string) => phoneticCodes(a).some((c) => phoneticCodes(b).includes(c));
    expect(share('smith', 'smyth')).toBe(true);
    expect(share('catherine', 'kathryn')).toBe(true);
    expect(share('smith', 'jones')).toBe(false);
  });
});

describe('phonetic search values', () => {
  it('give the codes of each word, and refuse a value without letters', () => {
    expect(phoneticQueryCodes('Jon Smyth')).toEqual([phoneticCodes('jon'), phoneticCodes('smyth')]);
    expect(() => phoneticQueryCodes('123')).toThrow(/phonetic/);
  });
});
