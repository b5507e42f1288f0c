import type { Logger } from "pino";
import type { MappingService } from "../core/mapping-service.js";
import { INTERNAL_CALLER } from "../core/write-audit.js";

/** The development-mode sample: group `analysts` may read the sales output port's root fields. */
export const SAMPLE_ROLE = {
  roleId: "sales_analysts",
  componentId: "urn:dmb:cmp:sales:orders-output-port:0",
  rootFields: ["sales_orders", "sales_orders_aggregate", "sales_orders_by_pk"],
} as const;
export const SAMPLE_GROUP = "group:analysts";

/** Loads the sample mapping into an empty store, so the README's curl answers at once; a used store is left alone. */
export async function seedSampleMapping(service: MappingService, logger: Logger): Promise<void> {
  const existing = await service.listRoles(1, undefined);
  if (existing.roles.length > 0) return;
  await service.upsertRole(INTERNAL_CALLER, SAMPLE_ROLE);
  await service.setGroupRoles(INTERNAL_CALLER, SAMPLE_ROLE.roleId, [SAMPLE_GROUP]);
  logger.info(
    {
      event: "sample_mapping_loaded",
      role: SAMPLE_ROLE.roleId,
      group: SAMPLE_GROUP,
      root_fields: SAMPLE_ROLE.rootFields,
    },
    "development mode: sample mapping loaded",
  );
}
