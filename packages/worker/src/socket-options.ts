import type { ClientOptions } from 'ws';

/**
 * ws client options for a worker's connection (and anything that speaks to a coordinator
 * the same way, such as `flotilla bench allreduce`).
 *
 * RFC 6455 makes clients mask every frame with a random key, which protects HTTP
 * intermediaries from scripts in browsers. A worker is no browser script, and XOR-masking
 * megabytes of gradient per step costs CPU on both ends, so the key is all zeros: ws
 * then skips the masking pass when sending (the bytes on the wire equal the payload),
 * and the coordinator's unmasking (native with the optional bufferutil) is a no-op XOR.
 */
export const clientSocketOptions: ClientOptions = {
  perMessageDeflate: false,
  maxPayload: 1 << 30,
  generateMask: (mask: Buffer) => { mask.fill(0); },
};
