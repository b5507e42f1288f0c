import { ServerCredentials } from "@grpc/grpc-js";

/** TLS for the gRPC listener, as PEM contents. */
export interface GrpcTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** When set, mutual TLS: every client must present a certificate signed by this authority. */
  readonly clientCa?: string | Buffer | undefined;
}

/** The credentials to bind with: TLS (mutual when a client CA is given), or plaintext when `tls` is undefined. */
export function grpcServerCredentials(tls: GrpcTlsOptions | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const clientCa = tls.clientCa === undefined ? null : toBuffer(tls.clientCa);
  return ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: toBuffer(tls.cert), private_key: toBuffer(tls.key) }],
    // Only with a client CA are client certificates demanded, and then they are checked against it.
    clientCa !== null,
  );
}

function toBuffer(pem: string | Buffer): Buffer {
  return typeof pem === "string" ? Buffer.from(pem, "utf8") : pem;
}
