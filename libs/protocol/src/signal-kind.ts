import { Signal, SignalKind } from './gen/ephemeral/signaling/v1/signal';

/** The kind of a signal, for errors and metrics (UNSPECIFIED when empty). */
export function signalKindOf(signal: Signal | undefined): SignalKind {
  switch (signal?.payload?.$case) {
    case 'offer':
      return SignalKind.SIGNAL_KIND_OFFER;
    case 'answer':
      return SignalKind.SIGNAL_KIND_ANSWER;
    case 'candidate':
      return SignalKind.SIGNAL_KIND_CANDIDATE;
    case 'bye':
      return SignalKind.SIGNAL_KIND_BYE;
    default:
      return SignalKind.SIGNAL_KIND_UNSPECIFIED;
  }
}
