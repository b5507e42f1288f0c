import type { TLSSocket } from "node:tls";
import type { RequestHandler } from "express";
import type { CoreLogger } from "../core/identity.js";
import { authenticateCaller, type ApiAuth, type ApiCaller } from "../identity/api-credentials.js";
import { sendAdminFailure } from "./admin-errors.js";

/**
 * Authenticates each request before its body is read, with the same credentials as the gRPC API; the caller
 * is left in `res.locals.caller` for the audit log. `clientCertificates` is true when the app is served over
 * HTTPS with client certificates verified against a CA (requestCert and rejectUnauthorized).
 */
export function adminAuth(auth: ApiAuth, clientCertificates: boolean, logger: CoreLogger): RequestHandler {
  return (req, res, next) => {
    const subject = clientCertificates ? certificateSubject(req.socket as TLSSocket) : undefined;
    authenticateCaller(auth, req.get("authorization"), subject).then(
      (caller: ApiCaller) => {
        res.locals.caller = caller;
        next();
      },
      (error: unknown) => sendAdminFailure(res, error, logger),
    );
  };
}

// Only a certificate the TLS layer verified names the caller.
function certificateSubject(socket: TLSSocket): string | undefined {
  if (typeof socket.getPeerCertificate !== "function" || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  const commonName = certificate.subject?.CN;
  if (typeof commonName === "string" && commonName !== "") return `cn:${commonName}`;
  return certificate.fingerprint256 ? `sha256:${certificate.fingerprint256}` : undefined;
}
