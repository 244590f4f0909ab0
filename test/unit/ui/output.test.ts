import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { colorEnabled, createOutput, formatTable } from '../../../src/ui/output.js';
import { Redactor } from '../../../src/ui/redact.js';

const capture = () => {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
};

describe('output', () => {
  it('keeps data on stdout and notices on stderr; --json suppresses human data', () => {
    const out = capture();
    const err = capture();
    const human = createOutput({ stdout: out.stream, stderr: err.stream, json: false, color: false });
    human.data('the url');
    human.notice('press Ctrl-C');
    expect(out.text()).toBe('the url\n');
    expect(err.text()).toBe('press Ctrl-C\n');

    const jsonOut = capture();
    const json = createOutput({ stdout: jsonOut.stream, stderr: capture().stream, json: true, color: false });
    json.data('not for scripts');
    json.jsonLine({ event: 'ready' });
    expect(jsonOut.text()).toBe('{"event":"ready"}\n');
  });

  it('colours only a TTY, never with NO_COLOR, FORCE_COLOR=0 or --no-color', () => {
    expect(colorEnabled({}, true, false)).toBe(true);
    expect(colorEnabled({}, false, false)).toBe(false);
    expect(colorEnabled({ NO_COLOR: '1' }, true, false)).toBe(false);
    expect(colorEnabled({ FORCE_COLOR: '0' }, true, false)).toBe(false);
    expect(colorEnabled({}, true, true)).toBe(false);
    const err = capture();
    createOutput({ stdout: capture().stream, stderr: err.stream, json: false, color: false }).warn('careful');
    expect(err.text()).toBe('Warning: careful\n');
  });

  it('aligns tables on a TTY and uses tabs when piped', () => {
    const rows = [
      ['team', 'Demo'],
      ['authtoken', 'present'],
    ];
    expect(formatTable(rows, false)).toEqual(['team\tDemo', 'authtoken\tpresent']);
    expect(formatTable(rows, true)).toEqual(['team       Demo', 'authtoken  present']);
  });
});

describe('Redactor', () => {
  it('scrubs every registered secret, ignoring values too short to be secrets', () => {
    const r = new Redactor();
    r.add('tok_0123456789abcdef');
    r.add('short');
    r.add(undefined);
    expect(r.redact('failed with tok_0123456789abcdef twice: tok_0123456789abcdef')).toBe('failed with [redacted] twice: [redacted]');
    expect(r.redact('a short word')).toBe('a short word');
  });
});
