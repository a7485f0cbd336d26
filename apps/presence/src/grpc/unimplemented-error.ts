/** A method this presence does not offer in its configuration: gRPC UNIMPLEMENTED. */
export class UnimplementedError extends Error {
  override readonly name = 'UnimplementedError';
}
