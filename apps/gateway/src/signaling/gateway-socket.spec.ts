import { GatewaySocket, type GatewaySocketEvents } from './gateway-socket';

function recordingSink() {
  const heard: string[] = [];
  const sink: GatewaySocketEvents = {
    message: (socket, data, isBinary) => heard.push(`message ${String(data)} ${isBinary}`),
    closed: (socket, code) => heard.push(`closed ${code}`),
    error: (socket, error) => heard.push(`error ${error.message}`),
  };
  return { sink, heard };
}

describe('GatewaySocket', () => {
  // A server-side socket before ws attaches a TCP socket, as ws's server
  // makes it (address null, which ws's types do not spell): enough for events.
  const newSocket = () => new GatewaySocket(null as unknown as string, undefined, {});

  it('takes message, pong, error and close to its sink without listeners', () => {
    const socket = newSocket();
    const { sink, heard } = recordingSink();
    socket.events = sink;
    socket.alive = false;
    socket.emit('message', Buffer.from('hi'), true);
    expect(socket.alive).toBe(true);
    socket.alive = false;
    socket.emit('pong', Buffer.alloc(0));
    expect(socket.alive).toBe(true);
    expect(socket.emit('error', new Error('too big'))).toBe(true);
    socket.emit('close', 1009, Buffer.alloc(0));
    expect(heard).toEqual(['message hi true', 'error too big', 'closed 1009']);
    expect(socket.eventNames()).toEqual([]);
  });

  it('still gives close and the events it does not handle to listeners', () => {
    const socket = newSocket();
    socket.events = recordingSink().sink;
    const heard: string[] = [];
    socket.on('close', (code: number) => heard.push(`close ${code}`));
    socket.on('ping', () => heard.push('ping'));
    socket.emit('ping', Buffer.alloc(0));
    socket.emit('close', 1000, Buffer.alloc(0));
    expect(heard).toEqual(['ping', 'close 1000']);
  });

  it('behaves as a plain WebSocket before it has a sink', () => {
    const socket = newSocket();
    const heard: string[] = [];
    socket.on('message', () => heard.push('message'));
    socket.emit('message', Buffer.from('x'), true);
    expect(heard).toEqual(['message']);
    expect(() => socket.emit('error', new Error('unheard'))).toThrow('unheard');
  });
});
