import { splitForMiddleTruncation } from './file-name';

describe('splitForMiddleTruncation', () => {
  it('leaves a short name whole', () => {
    expect(splitForMiddleTruncation('report.pdf')).toEqual({ head: 'report.pdf', tail: '' });
  });

  it('keeps the distinguishing end of a long name apart', () => {
    const { head, tail } = splitForMiddleTruncation('holiday-photos/IMG_20261201_0142.jpg');
    expect(tail).toBe('1_0142.jpg');
    expect(head + tail).toBe('holiday-photos/IMG_20261201_0142.jpg');
  });

  it('never splits a surrogate pair', () => {
    const name = 'a'.repeat(30) + '😀'.repeat(10);
    const { head, tail } = splitForMiddleTruncation(name);
    expect(tail).toBe('😀'.repeat(10));
    expect(head + tail).toBe(name);
  });
});
