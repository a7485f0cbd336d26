/**
 * What the kernel and this process allow a run of N WebSocket peers on one
 * machine, checked before anything starts so that a run fails with the limit
 * it would hit instead of half-way through a ramp:
 *   - open files per process (RLIMIT_NOFILE): every socket is a descriptor
 *     in a gateway and in a client worker; run.sh raises the soft limit to
 *     the hard one, and only CAP_SYS_RESOURCE (or a systemd LimitNOFILE)
 *     raises the hard one;
 *   - open files system-wide (fs.file-max): two descriptors per peer, one
 *     at each end of the loopback connection;
 *   - ephemeral ports (net.ipv4.ip_local_port_range): per source address, so
 *     peers spread over many 127.x addresses;
 *   - connection tracking (nf_conntrack_max, when the module is loaded): one
 *     entry per connection, TIME_WAIT ones of an earlier run included.
 */
import { readFileSync } from 'node:fs';

function readNumbers(path: string): number[] | undefined {
  try {
    return readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
}

export interface SystemLimits {
  openFilesSoft: number;
  openFilesHard: number;
  fileMax: number;
  portsPerAddress: number;
  conntrackMax: number | undefined;
  conntrackInUse: number | undefined;
  memAvailableBytes: number;
}

export function readSystemLimits(): SystemLimits {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const files = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const asNumber = (text: string | undefined) =>
    text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text);
  const [low, high] = readNumbers('/proc/sys/net/ipv4/ip_local_port_range') ?? [32768, 60999];
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    openFilesSoft: asNumber(files?.[1]),
    openFilesHard: asNumber(files?.[2]),
    fileMax: readNumbers('/proc/sys/fs/file-max')?.[0] ?? NaN,
    portsPerAddress: (high ?? 60999) - (low ?? 32768) + 1,
    conntrackMax: readNumbers('/proc/sys/net/netfilter/nf_conntrack_max')?.[0],
    conntrackInUse: readNumbers('/proc/sys/net/netfilter/nf_conntrack_count')?.[0],
    memAvailableBytes: Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? NaN) * 1024,
  };
}

// Descriptors a gateway or worker needs besides its peers' sockets: the
// runtime, gRPC, Kafka, metrics, logs.
export const DESCRIPTOR_RESERVE = 300;
// A rough upper bound for one peer at both ends (gateway, client worker,
// kernel socket buffers), for the memory check only.
const BYTES_PER_PEER_ESTIMATE = 64 * 1024;

export interface RunShape {
  peers: number;
  gateways: number;
  workers: number;
  peersPerAddress: number;
}

/** The problems that stop a run of this shape here, each with what to change; empty: it fits. */
export function limitProblems(shape: RunShape, limits: SystemLimits): string[] {
  const problems: string[] = [];
  const perGateway = Math.ceil(shape.peers / shape.gateways);
  const perWorker = Math.ceil(shape.peers / shape.workers);
  const budget = limits.openFilesSoft - DESCRIPTOR_RESERVE;
  if (perGateway > budget)
    problems.push(
      `${perGateway} peers per gateway need ${perGateway + DESCRIPTOR_RESERVE} open files, ` +
        `RLIMIT_NOFILE is ${limits.openFilesSoft} (hard ${limits.openFilesHard}): use ` +
        `--gateways ${Math.ceil(shape.peers / budget)} or raise the hard limit ` +
        `(needs CAP_SYS_RESOURCE: ulimit -Hn, systemd LimitNOFILE, docker --ulimit nofile)`,
    );
  if (perWorker > budget)
    problems.push(
      `${perWorker} peers per client worker exceed RLIMIT_NOFILE ${limits.openFilesSoft}: use --workers ${Math.ceil(shape.peers / budget)}`,
    );
  if (2 * shape.peers + 10_000 > limits.fileMax)
    problems.push(
      `fs.file-max ${limits.fileMax} < two descriptors per peer: sysctl -w fs.file-max=${4 * shape.peers}`,
    );
  if (shape.peersPerAddress > limits.portsPerAddress)
    problems.push(
      `${shape.peersPerAddress} peers per source address > ${limits.portsPerAddress} ephemeral ports ` +
        `(net.ipv4.ip_local_port_range): lower --peers-per-address`,
    );
  if (
    limits.conntrackMax !== undefined &&
    (limits.conntrackInUse ?? 0) + shape.peers + 1_000 > limits.conntrackMax
  )
    problems.push(
      `nf_conntrack_max ${limits.conntrackMax} with ${limits.conntrackInUse} in use has no room for ` +
        `${shape.peers} connections: sysctl -w net.netfilter.nf_conntrack_max=${2 * shape.peers + 65_536} ` +
        `(or wait ~2 min for an earlier run's TIME_WAIT entries)`,
    );
  if (shape.peers * BYTES_PER_PEER_ESTIMATE > limits.memAvailableBytes)
    problems.push(
      `${shape.peers} peers need roughly ${((shape.peers * BYTES_PER_PEER_ESTIMATE) / 2 ** 30).toFixed(1)} GiB, ` +
        `${(limits.memAvailableBytes / 2 ** 30).toFixed(1)} GiB available`,
    );
  return problems;
}

/** The loopback source address of peer `index`: 127.<16+a/250>.<a%250+1>.1, `perAddress` peers each. */
export function sourceAddressOf(index: number, perAddress: number): string {
  const address = Math.floor(index / perAddress);
  return `127.${16 + Math.floor(address / 250)}.${(address % 250) + 1}.1`;
}
