// End-to-end scenarios about the fw_upload interface (spec §2.1, §4.2, I-23, I-24): what
// userspace sees when it uploads twice, uploads nothing, or cancels, with the model agreeing.
import { describe, expect, it } from 'vitest';
import { cancel, corrupt, events, hostData, imageRef, linResults, readError, readVersion, run, scenario, upload } from '../impl/kernel/helpers.ts';

const kindsOf = (r: ReturnType<typeof run>): string[] =>
  r.host.trace.map((e) => (e.kind === 'lin' ? e.op.name : e.kind === 'response' ? e.command.kind : e.kind));

describe('uploads', () => {
  it('a second upload during an update is ignored; the first one completes', () => {
    // Choice 0 runs the first upload's fw_load; choice 2 then issues the second upload while the
    // first one's worker is queued (the options are: worker, first command, issue).
    const r = run(scenario(hostData(4), [upload(imageRef('1.5.08')), upload(imageRef('1.5.09')), readVersion, readError], [0, 2]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'fw_load')).toEqual(['started', 'ignored']);
    expect(linResults(r.host, 'update')).toEqual([0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'read_error')).toEqual(['']);
    expect(events(r.host.trace, 'update_begin')).toHaveLength(1);
  });

  it('`error` reads -EBUSY while an upload is in flight, then the result', () => {
    const r = run(scenario(hostData(2), [upload(corrupt({ kind: 'bad_checksum' })), readError, readError], [0, 2]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_error')).toEqual([-16, 'transferring:firmware-invalid']);
  });

  it('an empty upload keeps the previous error and starts nothing', () => {
    const r = run(scenario(hostData(2), [upload(corrupt({ kind: 'bad_length' })), upload(corrupt({ kind: 'truncate', length: 0 })), readError]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'fw_load')).toEqual(['started', 'empty']);
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:firmware-invalid']);
  });

  it('a successful upload clears the previous error', () => {
    const r = run(scenario(hostData(2), [upload(corrupt({ kind: 'bad_magic' })), readError, upload(), readError]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:firmware-invalid', '']);
  });

  it('cancel while idle is -ENODEV and does not affect the next upload (v3 fix of B20)', () => {
    const r = run(scenario(hostData(2), [cancel, upload(), readError, readVersion]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'cancel')).toEqual([-19]);
    expect(linResults(r.host, 'read_error')).toEqual(['']);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
  });

  it('a cancel between prepare and write aborts the upload with user-abort and touches nothing', () => {
    // Choices: fw_load, worker "preparing", the command ends, prepare; then issue the cancel.
    const r = run(scenario(hostData(2), [upload(), cancel, readError, readVersion], [0, 0, 0, 0, 1]));
    expect(r.violation).toBeNull();
    const k = kindsOf(r);
    expect(k.indexOf('fw_prepare')).toBeLessThan(k.indexOf('cancel'));
    expect(k.indexOf('cancel')).toBeLessThan(k.indexOf('fw_write'));
    expect(linResults(r.host, 'cancel')).toEqual([0]);
    expect(linResults(r.host, 'fw_write')).toEqual([true]);
    expect(linResults(r.host, 'update')).toEqual([-125]);
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:user-abort']);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.06']);
    expect(events(r.host.trace, 'update_begin')).toEqual([]);
  });
});
