import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { status, type handleBidiStreamingCall, type MethodDefinition, type Server } from "@grpc/grpc-js";
import type * as ProtoLoader from "@grpc/proto-loader";
import type * as Reflection from "@grpc/reflection";
import { StreamCap } from "./call-end.js";

/** The .proto files' root: `proto/` in the package's root, found from the sources or from the bundle in dist/. */
export const PROTO_ROOT = resolve(packageRoot(dirname(fileURLToPath(import.meta.url))), "proto");

/** The RoleMapping API's proto file, relative to PROTO_ROOT. */
export const ROLEMAPPER_PROTO = "rolemapper/v1/rolemapper.proto";

// Both published versions of the reflection protocol: grpcurl and most clients ask v1, older ones v1alpha.
const REFLECTION_METHODS = [
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

type AnyMethod = MethodDefinition<unknown, unknown>;
type Loaded = ReadonlyMap<string, { method: AnyMethod; handler: handleBidiStreamingCall<unknown, unknown> }>;

const require = createRequire(import.meta.url);

/**
 * Adds server reflection (v1 and v1alpha) describing the RoleMapping and health services, so `grpcurl` can
 * call the server without the proto files at hand. The methods are registered at once, but what answers them
 * (proto-loader parsing the .proto files, protobufjs, @grpc/reflection) is loaded on the first reflection call:
 * a tool's call, where it costs a fraction of a second once, instead of every start and every pod's memory.
 * At most `maxStreams` reflection streams are open at once; the next is refused with RESOURCE_EXHAUSTED.
 */
export function addReflectionService(server: Server, maxStreams: number): void {
  // Its streams need no credential and stay open until the client ends them: they are counted and capped.
  const open = new StreamCap(maxStreams);
  let loaded: Loaded | undefined;
  const load = (path: string) => {
    loaded ??= loadReflection();
    const found = loaded.get(path);
    if (!found) throw new Error(`@grpc/reflection has no method ${path}`);
    return found;
  };
  for (const path of REFLECTION_METHODS) {
    const method: AnyMethod = {
      path,
      requestStream: true,
      responseStream: true,
      requestSerialize: (value) => load(path).method.requestSerialize(value),
      requestDeserialize: (bytes) => load(path).method.requestDeserialize(bytes),
      responseSerialize: (value) => load(path).method.responseSerialize(value),
      responseDeserialize: (bytes) => load(path).method.responseDeserialize(bytes),
    };
    const handler: handleBidiStreamingCall<unknown, unknown> = (call) => {
      if (open.admit(call)) load(path).handler(call);
      else
        call.emit("error", { code: status.RESOURCE_EXHAUSTED, details: "too many reflection streams open" });
    };
    server.addService({ ServerReflectionInfo: method }, { ServerReflectionInfo: handler });
  }
}

// Synchronous (require): a method's deserializer may be the first to need it, and cannot wait.
function loadReflection(): Loaded {
  const { loadSync } = require("@grpc/proto-loader") as typeof ProtoLoader;
  const { ReflectionService } = require("@grpc/reflection") as typeof Reflection;
  // health/v1/health.proto sits under the package's proto/ directory.
  const healthRoot = resolve(dirname(require.resolve("grpc-health-check/package.json")), "proto");
  const definition = loadSync([ROLEMAPPER_PROTO, "health/v1/health.proto"], {
    includeDirs: [PROTO_ROOT, healthRoot],
    // Without it the descriptors would carry camelCase field names, and grpcurl would expect those in JSON.
    keepCase: true,
  });
  // The reflection package registers its services on a server; this one only keeps what it is given.
  const methods = new Map<
    string,
    { method: AnyMethod; handler: handleBidiStreamingCall<unknown, unknown> }
  >();
  const collector = {
    addService(service: Record<string, AnyMethod>, implementation: Record<string, unknown>) {
      for (const [name, method] of Object.entries(service)) {
        const handler = implementation[name] as handleBidiStreamingCall<unknown, unknown>;
        methods.set(method.path, { method, handler: handler.bind(implementation) });
      }
    },
  };
  new ReflectionService(definition).addToServer(collector as unknown as Server);
  return methods;
}

// The nearest directory holding package.json: the repository, or the image's /app.
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
