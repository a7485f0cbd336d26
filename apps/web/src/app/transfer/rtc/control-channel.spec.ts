import { ControlMessage } from '@ephemeral/protocol';
import { ControlChannel, MAX_BATCH_MESSAGES } from './control-channel';
import { FakeChannel } from './fake-channel';
import { turn } from '../wire/transfer-pair';

const request = (requestId: number): ControlMessage => ({
  kind: { $case: 'request', value: { requestId, fileId: requestId, offset: 0 } },
});
const manifest: ControlMessage = {
  kind: { $case: 'manifest', value: { files: [], more: false } },
};

/** Each sent message as the kinds it carries: a batch as a list. */
function shape(channel: FakeChannel): unknown[] {
  return channel.sent.map((bytes) => {
    const kind = ControlMessage.decode(bytes).kind;
    return kind?.$case === 'batch' ? kind.value.messages.map((m) => m.kind?.$case) : kind?.$case;
  });
}

describe('ControlChannel', () => {
  it('sends each message at once while the peer has not listed batches', () => {
    const [channel] = FakeChannel.pair('control');
    const control = new ControlChannel(channel);
    control.send(request(1));
    control.send(request(2));
    expect(shape(channel)).toEqual(['request', 'request']);
  });

  it("gathers one task's per-file messages into one batch, sent in the next task", async () => {
    const [channel, peer] = FakeChannel.pair('control');
    const control = new ControlChannel(channel);
    control.enableBatching();
    for (let id = 1; id <= 3; id++) control.send(request(id));
    control.send({ kind: { $case: 'progress', value: { requestId: 1, bytesReceived: 5 } } });
    expect(channel.sent).toHaveLength(0);
    const received: ControlMessage[] = [];
    peer.addEventListener('message', (e) => received.push(...ControlChannel.decodeAll(e.data)));
    await turn();
    expect(shape(channel)).toEqual([['request', 'request', 'request', 'progress']]);
    await turn();
    expect(received.map((m) => (m.kind?.$case === 'request' ? m.kind.value.requestId : 0))).toEqual(
      [1, 2, 3, 0],
    );
  });

  it('sends one waiting message as itself, not as a batch of one', async () => {
    const [channel] = FakeChannel.pair('control');
    const control = new ControlChannel(channel);
    control.enableBatching();
    control.send(request(1));
    await turn();
    expect(shape(channel)).toEqual(['request']);
  });

  it('keeps the order around a message that is never batched', async () => {
    const [channel] = FakeChannel.pair('control');
    const control = new ControlChannel(channel);
    control.enableBatching();
    control.send(request(1));
    control.send(request(2));
    control.send(manifest);
    control.send(request(3));
    await turn();
    expect(shape(channel)).toEqual([['request', 'request'], 'manifest', 'request']);
  });

  it(`sends a batch as soon as it holds ${MAX_BATCH_MESSAGES} messages`, async () => {
    const [channel] = FakeChannel.pair('control');
    const control = new ControlChannel(channel);
    control.enableBatching();
    for (let id = 1; id <= MAX_BATCH_MESSAGES + 1; id++) control.send(request(id));
    expect(channel.sent).toHaveLength(1);
    await turn();
    expect(shape(channel).map((s) => (Array.isArray(s) ? s.length : s))).toEqual([
      MAX_BATCH_MESSAGES,
      'request',
    ]);
    expect(channel.sent[0].length).toBeLessThan(16 * 1024);
  });

  it('drops a batch inside a batch, and what is not a control message', () => {
    const nested: ControlMessage = {
      kind: { $case: 'batch', value: { messages: [request(1), request(2)] } },
    };
    const outer = ControlMessage.encode({
      kind: { $case: 'batch', value: { messages: [nested, request(3)] } },
    }).finish();
    expect(ControlChannel.decodeAll(outer).map((m) => m.kind?.$case)).toEqual(['request']);
    expect(ControlChannel.decodeAll(Uint8Array.of(0xff, 0xff, 0xff))).toEqual([]);
    expect(ControlChannel.decodeAll('text')).toEqual([]);
  });
});
