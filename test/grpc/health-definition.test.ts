import type { MethodDefinition } from "@grpc/grpc-js";
import { service } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { healthDefinition } from "../../src/grpc/health-definition.js";

// The hand-encoded health messages against the ones proto-loader builds from health.proto (grpc-health-check):
// what one side writes, the other reads back as the same object.

const fromProto = service as unknown as Record<
  "Check" | "Watch" | "List",
  MethodDefinition<unknown, unknown>
>;

const checkRequests = [{ service: "" }, { service: "rolemapper.v1.RoleMappingService" }, { service: "ü/ß" }];
const checkResponses = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"].map((status) => ({ status }));
const lists = [
  { statuses: {} },
  { statuses: { "": { status: "SERVING" } } },
  {
    statuses: {
      "": { status: "NOT_SERVING" },
      "rolemapper.v1.RoleMappingService": { status: "NOT_SERVING" },
      other: { status: "UNKNOWN" },
    },
  },
];

describe("grpc.health.v1.Health, encoded by hand", () => {
  it("has the methods, paths and stream kinds of health.proto", () => {
    for (const name of ["Check", "Watch", "List"] as const) {
      const ours = healthDefinition[name];
      const theirs = fromProto[name];
      expect({ ...ours }).toMatchObject({
        path: theirs.path,
        requestStream: theirs.requestStream,
        responseStream: theirs.responseStream,
        originalName: theirs.originalName,
      });
    }
  });

  it.each(checkRequests)("HealthCheckRequest %j: read back by either side", (request) => {
    const ours = healthDefinition.Check.requestSerialize(request);
    expect(fromProto.Check.requestDeserialize(ours)).toEqual(request);
    expect(healthDefinition.Check.requestDeserialize(fromProto.Check.requestSerialize(request))).toEqual(
      request,
    );
  });

  it.each(checkResponses)("HealthCheckResponse %j: read back by either side", (response) => {
    const ours = healthDefinition.Watch.responseSerialize(response as never);
    expect(fromProto.Watch.responseDeserialize(ours)).toEqual(response);
    expect(healthDefinition.Watch.responseDeserialize(fromProto.Watch.responseSerialize(response))).toEqual(
      response,
    );
  });

  it.each(lists)("HealthListResponse %j: read back by either side", (list) => {
    const ours = healthDefinition.List.responseSerialize(list as never);
    expect(fromProto.List.responseDeserialize(ours)).toEqual(list);
    expect(healthDefinition.List.responseDeserialize(fromProto.List.responseSerialize(list))).toEqual(list);
  });

  it("skips fields it does not know, as protobuf readers must", () => {
    // field 1 = "a", then an unknown varint field 7 and an unknown length-delimited field 9
    const bytes = Buffer.from([0x0a, 0x01, 0x61, 0x38, 0x05, 0x4a, 0x02, 0x68, 0x69]);
    expect(healthDefinition.Check.requestDeserialize(bytes)).toEqual({ service: "a" });
  });
});
