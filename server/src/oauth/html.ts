/**
 * A tiny auto-escaping HTML template: every `${value}` inside html`…` is escaped with the
 * escape-html library unless it is itself an `html` fragment (or a list of them). No other way
 * to emit markup exists, so user-controlled text cannot break out.
 */
import escapeHtml from 'escape-html';

export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}
