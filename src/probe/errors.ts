/** A probe that cannot start as configured: the message says what to change. */
export class ProbeSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeSetupError';
  }
}
