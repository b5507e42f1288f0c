import { RoleMappingServiceService } from "./gen/rolemapper/v1/rolemapper.js";

// Read from a generated method path (`/rolemapper.v1.RoleMappingService/UpsertRole`), so it follows the proto.
const { path } = RoleMappingServiceService.upsertRole;

/** The fully-qualified name of the RoleMapping service, as health checks, reflection and spans name it. */
export const ROLE_MAPPING_SERVICE_NAME = path.slice(1, path.lastIndexOf("/"));
