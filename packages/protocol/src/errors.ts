/**
 * Every way a frame can be refused. The code says which layer failed, so a receiver can
 * answer with an `error` message carrying the same code and close the connection.
 *
 * - `bad-frame`:    the byte envelope (length prefix, header bounds, padding) is wrong
 * - `bad-header`:   the header is not one msgpack map with a string `type`
 * - `unknown-type`: the header's `type` is not a message this protocol knows
 * - `version`:      a `hello` speaks another protocol version
 * - `bad-field`:    a header field is missing, unknown, of the wrong type or out of range
 * - `bad-length`:   the payload size disagrees with the header's counts (or the model's)
 * - `non-finite`:   a payload value is NaN or infinite
 */
export type ProtocolErrorCode =
  | 'bad-frame'
  | 'bad-header'
  | 'unknown-type'
  | 'version'
  | 'bad-field'
  | 'bad-length'
  | 'non-finite';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(readonly code: ProtocolErrorCode, message: string) {
    super(message);
  }
}
