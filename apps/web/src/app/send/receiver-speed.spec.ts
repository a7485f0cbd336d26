import { blankReceiverStatus, ReceiverStatus } from '../transfer/send/served-receiver';
import { ReceiverSpeeds } from './receiver-speed';

function status(bytes: number, bytesPerSecond = 0, fileName = 'a.bin'): ReceiverStatus {
  return {
    ...blankReceiverStatus('peer-1'),
    state: 'transferring',
    fileName,
    bytes,
    size: 10_000_000,
    bytesPerSecond,
  };
}

describe('ReceiverSpeeds', () => {
  it('measures from the file start before the engine has a rate, never 0', () => {
    let now = 0;
    const speeds = new ReceiverSpeeds(() => now);
    expect(speeds.speedOf(status(0))).toBeNull();
    now = 100;
    expect(speeds.speedOf(status(100_000))).toBeNull();
    now = 500;
    expect(speeds.speedOf(status(1_000_000))).toBe(2_000_000);
  });

  it("takes the engine's rate once it has one, and starts over with the next file", () => {
    let now = 0;
    const speeds = new ReceiverSpeeds(() => now);
    speeds.speedOf(status(0));
    now = 1000;
    expect(speeds.speedOf(status(3_000_000, 2_500_000))).toBe(2_500_000);
    now = 1100;
    expect(speeds.speedOf(status(0, 0, 'b.bin'))).toBeNull();
    now = 1600;
    expect(speeds.speedOf(status(500_000, 0, 'b.bin'))).toBe(1_000_000);
  });

  it('is null when the receiver is not transferring', () => {
    const speeds = new ReceiverSpeeds(() => 0);
    expect(speeds.speedOf({ ...blankReceiverStatus('peer-1'), state: 'idle' })).toBeNull();
  });
});
