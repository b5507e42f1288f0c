import { credentials, Metadata, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import type { Server } from "@grpc/grpc-js";
import {
  bindGrpcServer,
  createGrpcServer,
  shutdownGrpcServer,
  type GrpcServerOptions,
} from "../../src/grpc/server.js";
import { grpcServerCredentials } from "../../src/grpc/tls.js";
import {
  RoleMappingServiceClient,
  type DeleteRoleRequest,
  type DeleteRoleResponse,
  type ExplainDecisionRequest,
  type ExplainDecisionResponse,
  type GetRoleByComponentRequest,
  type GetRoleByComponentResponse,
  type GetRoleGrantsRequest,
  type GetRoleGrantsResponse,
  type GetRoleRequest,
  type GetRoleResponse,
  type ListRolesRequest,
  type ListRolesResponse,
  type ListSubjectRolesRequest,
  type ListSubjectRolesResponse,
  type SetGroupRolesRequest,
  type SetGroupRolesResponse,
  type SetUserRolesRequest,
  type SetUserRolesResponse,
  type UpsertRoleRequest,
  type UpsertRoleResponse,
} from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";

type Callback<Res> = (error: ServiceError | null, response: Res) => void;

/** The RoleMapping RPCs as promises, each sending the given metadata (e.g. the bearer token). */
export interface RoleMappingApi {
  upsertRole(request: UpsertRoleRequest): Promise<UpsertRoleResponse>;
  getRole(request: GetRoleRequest): Promise<GetRoleResponse>;
  getRoleByComponent(request: GetRoleByComponentRequest): Promise<GetRoleByComponentResponse>;
  deleteRole(request: DeleteRoleRequest): Promise<DeleteRoleResponse>;
  setUserRoles(request: SetUserRolesRequest): Promise<SetUserRolesResponse>;
  setGroupRoles(request: SetGroupRolesRequest): Promise<SetGroupRolesResponse>;
  getRoleGrants(request: GetRoleGrantsRequest): Promise<GetRoleGrantsResponse>;
  listRoles(request: ListRolesRequest): Promise<ListRolesResponse>;
  listSubjectRoles(request: ListSubjectRolesRequest): Promise<ListSubjectRolesResponse>;
  explainDecision(request: ExplainDecisionRequest): Promise<ExplainDecisionResponse>;
}

/** Metadata carrying `authorization: Bearer <token>`, or none when `token` is undefined. */
export function bearer(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

/** Wraps the generated client's callback methods as promises. */
export function promiseApi(client: RoleMappingServiceClient, metadata: Metadata): RoleMappingApi {
  const call = <Res>(invoke: (callback: Callback<Res>) => void): Promise<Res> =>
    new Promise((resolve, reject) =>
      invoke((error, response) => (error ? reject(error) : resolve(response))),
    );
  return {
    upsertRole: (r) => call((cb) => client.upsertRole(r, metadata, cb)),
    getRole: (r) => call((cb) => client.getRole(r, metadata, cb)),
    getRoleByComponent: (r) => call((cb) => client.getRoleByComponent(r, metadata, cb)),
    deleteRole: (r) => call((cb) => client.deleteRole(r, metadata, cb)),
    setUserRoles: (r) => call((cb) => client.setUserRoles(r, metadata, cb)),
    setGroupRoles: (r) => call((cb) => client.setGroupRoles(r, metadata, cb)),
    getRoleGrants: (r) => call((cb) => client.getRoleGrants(r, metadata, cb)),
    listRoles: (r) => call((cb) => client.listRoles(r, metadata, cb)),
    listSubjectRoles: (r) => call((cb) => client.listSubjectRoles(r, metadata, cb)),
    explainDecision: (r) => call((cb) => client.explainDecision(r, metadata, cb)),
  };
}

/** A started gRPC server on 127.0.0.1 and an ephemeral port. */
export interface RunningGrpcServer {
  readonly server: Server;
  readonly address: string;
  /** A client of the RoleMapping service (plaintext unless `channel` is given). */
  client(channel?: ChannelCredentials, options?: Record<string, string | number>): RoleMappingServiceClient;
  stop(): Promise<void>;
}

/** Builds the server with createGrpcServer and binds it to 127.0.0.1:0 (TLS when `options.tls` is set). */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = createGrpcServer(options);
  const port = await bindGrpcServer(server, "127.0.0.1", 0, grpcServerCredentials(options.tls));
  const address = `127.0.0.1:${port}`;
  const clients: RoleMappingServiceClient[] = [];
  return {
    server,
    address,
    client(channel = credentials.createInsecure(), clientOptions = {}) {
      const client = new RoleMappingServiceClient(address, channel, clientOptions);
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      await shutdownGrpcServer(server, 1_000);
    },
  };
}

/** The gRPC status code and details of a rejected call. */
export async function failureOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error("expected the call to fail");
}
