import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

// grpc.health.v1.Health (grpc/health/v1/health.proto), encoded by hand: its three small messages do not justify
// parsing the .proto at every start, which is what loading it through grpc-health-check costs (protobufjs and
// proto-loader in memory, about a quarter of a second of start-up). Messages have the shapes proto-loader gives
// them with `keepCase` and `enums: String`, so clients built from the .proto see no difference.

/** The serving status, by its enum name. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** `HealthCheckRequest`. */
export interface HealthCheckRequest {
  readonly service: string;
}

/** `HealthCheckResponse`. */
export interface HealthCheckResponse {
  readonly status: ServingStatus;
}

/** `HealthListResponse`: every service's status by name. */
export interface HealthListResponse {
  readonly statuses: Readonly<Record<string, HealthCheckResponse>>;
}

const STATUSES: readonly ServingStatus[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

function writeResponse(message: HealthCheckResponse, writer: BinaryWriter): BinaryWriter {
  const status = STATUSES.indexOf(message.status);
  if (status > 0) writer.tag(1, WireType.Varint).int32(status);
  return writer;
}

// Reads a message of string and enum fields: field number → its last value; unknown fields are skipped.
function readFields(bytes: Uint8Array): Map<number, string | number | Uint8Array> {
  const reader = new BinaryReader(bytes);
  const fields = new Map<number, string | number | Uint8Array>();
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (type === WireType.Varint) fields.set(field, reader.int32());
    else if (type === WireType.LengthDelimited) fields.set(field, reader.bytes());
    else reader.skip(type, field);
  }
  return fields;
}

function text(value: string | number | Uint8Array | undefined): string {
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : "";
}

function readResponse(bytes: Uint8Array): HealthCheckResponse {
  const status = readFields(bytes).get(1);
  return { status: (typeof status === "number" && STATUSES[status]) || "UNKNOWN" };
}

function readList(bytes: Uint8Array): HealthListResponse {
  const statuses: Record<string, HealthCheckResponse> = {};
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, type] = reader.tag();
    if (field !== 1 || type !== WireType.LengthDelimited) {
      reader.skip(type, field);
      continue;
    }
    // A map entry: key (1) and value (2).
    const entry = readFields(reader.bytes());
    const value = entry.get(2);
    statuses[text(entry.get(1))] = value instanceof Uint8Array ? readResponse(value) : { status: "UNKNOWN" };
  }
  return { statuses };
}

function writeList(message: HealthListResponse): BinaryWriter {
  const writer = new BinaryWriter();
  for (const [name, value] of Object.entries(message.statuses)) {
    writer.tag(1, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(name);
    writeResponse(value, writer.tag(2, WireType.LengthDelimited).fork()).join();
    writer.join();
  }
  return writer;
}

const checkRequest = {
  requestSerialize: (value: HealthCheckRequest): Buffer =>
    Buffer.from(
      (value.service === ""
        ? new BinaryWriter()
        : new BinaryWriter().tag(1, WireType.LengthDelimited).string(value.service)
      ).finish(),
    ),
  requestDeserialize: (bytes: Buffer): HealthCheckRequest => ({ service: text(readFields(bytes).get(1)) }),
};
const checkResponse = {
  responseSerialize: (value: HealthCheckResponse): Buffer =>
    Buffer.from(writeResponse(value, new BinaryWriter()).finish()),
  responseDeserialize: (bytes: Buffer): HealthCheckResponse => readResponse(bytes),
};

/** The grpc-js service definition of `grpc.health.v1.Health`. */
export const healthDefinition = {
  Check: {
    path: "/grpc.health.v1.Health/Check",
    requestStream: false,
    responseStream: false,
    originalName: "check",
    ...checkRequest,
    ...checkResponse,
  },
  Watch: {
    path: "/grpc.health.v1.Health/Watch",
    requestStream: false,
    responseStream: true,
    originalName: "watch",
    ...checkRequest,
    ...checkResponse,
  },
  List: {
    path: "/grpc.health.v1.Health/List",
    requestStream: false,
    responseStream: false,
    originalName: "list",
    requestSerialize: (): Buffer => Buffer.alloc(0),
    requestDeserialize: (): Record<string, never> => ({}),
    responseSerialize: (value: HealthListResponse): Buffer => Buffer.from(writeList(value).finish()),
    responseDeserialize: (bytes: Buffer): HealthListResponse => readList(bytes),
  },
} as const;
