import type { Hello } from '@ephemeral/protocol';
import { SignalingClient } from '@ephemeral/testing';

/**
 * The signaling clients a spec opened, each on the gateway URL it names,
 * so that all of them are closed after each test (`closeAll`).
 */
export class OpenedClients {
  private readonly opened: SignalingClient[] = [];

  readonly connect = async (url: string): Promise<SignalingClient> => {
    const client = await SignalingClient.connect(url);
    this.opened.push(client);
    return client;
  };

  /** Connected, Hello sent and the Welcome received. */
  readonly welcomed = async (url: string, hello: Partial<Hello>): Promise<SignalingClient> => {
    const client = await this.connect(url);
    await client.hello(hello);
    return client;
  };

  /** Sends Hello and expects an Error in answer (no Welcome). */
  readonly refusedHello = async (url: string, hello: Partial<Hello>) => {
    const client = await this.connect(url);
    client.send({
      seq: 1,
      kind: {
        $case: 'hello',
        value: { resumePeerId: '', resumeToken: '', clientVersion: 'oidc-e2e', ...hello },
      },
    });
    const error = await client.next('error');
    expect(client.pending('welcome')).toBe(0);
    return error;
  };

  async closeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((client) => client.close()));
  }
}
