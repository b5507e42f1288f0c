import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { InvalidArgumentError, NotFoundError } from "../core/errors.js";
import type { CoreLogger } from "../core/identity.js";
import type { Role } from "../core/mapping.js";
import type { MappingService } from "../core/mapping-service.js";
import type { Caller } from "../core/write-audit.js";
import type { ApiCaller } from "../identity/api-credentials.js";
import { requireFields } from "./admin-body.js";
import { adminErrorHandler, sendAdminFailure } from "./admin-errors.js";

/** What the REST routes need. */
export interface AdminRoutesOptions {
  readonly service: MappingService;
  readonly bodyLimitBytes: number;
  readonly logger: CoreLogger;
  /** Run before each route (audit, authentication), ahead of body parsing. */
  readonly guard: readonly RequestHandler[];
}

/**
 * The existing service's RoleMapping routes, same paths and bodies, plus `DELETE /v1/roles/{role_id}`. Each
 * translates one request to one MappingService call.
 */
export function adminRoutes(options: AdminRoutesOptions): Router {
  const { service, logger } = options;
  const guard = [...options.guard];
  const router = Router();
  // The Python provisioner sends application/json; any other type is parsed as JSON too, not read as empty.
  const json = express.json({ limit: options.bodyLimitBytes, type: () => true, strict: false });

  router.put("/v1/roles", ...guard, json, async (req, res) => {
    try {
      const body = requireFields(req.body, ["role_id", "component_id", "graphql_root_field_names"]);
      const role = await service.upsertRole(restCaller(res), {
        roleId: body.role_id,
        componentId: body.component_id,
        rootFields: body.graphql_root_field_names,
      });
      res.json(roleWithFields(role));
    } catch (error) {
      sendAdminFailure(res, error, logger);
    }
  });

  router.put("/v1/user_roles", ...guard, json, async (req, res) => {
    try {
      const body = requireFields(req.body, ["role_id", "users"]);
      const grants = await service
        .setUserRoles(restCaller(res), body.role_id, body.users)
        .catch(missingRoleIsInvalid);
      res.json({ role_id: grants.roleId, users: grants.users });
    } catch (error) {
      sendAdminFailure(res, error, logger);
    }
  });

  router.put("/v1/group_roles", ...guard, json, async (req, res) => {
    try {
      const body = requireFields(req.body, ["role_id", "groups"]);
      const grants = await service
        .setGroupRoles(restCaller(res), body.role_id, body.groups)
        .catch(missingRoleIsInvalid);
      res.json({ role_id: grants.roleId, groups: grants.groups });
    } catch (error) {
      sendAdminFailure(res, error, logger);
    }
  });

  router.get("/v1/roles/component_id/:component_id", ...guard, async (req, res) => {
    const id = param(req, "component_id");
    await answer(res, logger, () => service.getRoleByComponent(id), `Role not found for component_id ${id}`);
  });

  router.get("/v1/roles/:role_id", ...guard, async (req, res) => {
    const id = param(req, "role_id");
    await answer(res, logger, () => service.getRole(id), `Role not found for role_id ${id}`);
  });

  router.delete("/v1/roles/:role_id", ...guard, async (req, res) => {
    const id = param(req, "role_id");
    try {
      await service.deleteRole(restCaller(res), id);
      res.status(204).end();
    } catch (error) {
      sendAdminFailure(res, error, logger, `Role not found for role_id ${id}`);
    }
  });

  router.use(adminErrorHandler(logger));
  return router;
}

// The old GET routes answer the role without its root fields.
async function answer(res: Response, logger: CoreLogger, get: () => Promise<Role>, notFound: string) {
  try {
    const role = await get();
    res.json({ role_id: role.roleId, component_id: role.componentId });
  } catch (error) {
    sendAdminFailure(res, error, logger, notFound);
  }
}

function roleWithFields(role: Role): object {
  return { role_id: role.roleId, component_id: role.componentId, graphql_root_field_names: role.rootFields };
}

// The caller adminAuth authenticated, as its writes are audited.
function restCaller(res: Response): Caller {
  const caller = res.locals.caller as ApiCaller | undefined;
  return { transport: "rest", name: caller?.name };
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  return typeof value === "string" ? value : "";
}

// The existing provisioner treats a missing role in a grant request as a bad request (400), not a 404.
function missingRoleIsInvalid(error: unknown): never {
  if (error instanceof NotFoundError) throw new InvalidArgumentError("role_id", error.message);
  throw error;
}
