import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";

/** The .proto files' root: `proto/` beside `src/` (or `dist/`), so both layouts find it. */
export const PROTO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../proto");

/** The RoleMapping API's proto file, relative to PROTO_ROOT. */
export const ROLEMAPPER_PROTO = "rolemapper/v1/rolemapper.proto";

/**
 * Adds server reflection (v1 and v1alpha) describing the RoleMapping and health services, so `grpcurl` can
 * call the server without the proto files at hand.
 */
export function addReflectionService(server: Server): void {
  // health/v1/health.proto sits three levels below the package's proto root.
  const healthRoot = resolve(dirname(healthProtoPath), "../..");
  const definition = loadSync([ROLEMAPPER_PROTO, "health/v1/health.proto"], {
    includeDirs: [PROTO_ROOT, healthRoot],
    // Without it the descriptors would carry camelCase field names, and grpcurl would expect those in JSON.
    keepCase: true,
  });
  new ReflectionService(definition).addToServer(server);
}
