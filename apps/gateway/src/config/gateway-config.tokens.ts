// Nest injection tokens for values that are not classes.

/** The validated GatewayConfig. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** The process's pino Logger (already bound to the gateway ID). */
export const GATEWAY_LOGGER = Symbol('GATEWAY_LOGGER');
