import type { MappingService } from "../../src/core/mapping-service.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

/** Alice granted one role per output port (sales, orders): a query of both needs their combined role. */
export async function grantAliceTwoOutputPorts(service: MappingService): Promise<void> {
  await service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales_reader",
    componentId: "urn:s",
    rootFields: ["output_port_sales"],
  });
  await service.upsertRole(INTERNAL_CALLER, {
    roleId: "orders_reader",
    componentId: "urn:o",
    rootFields: ["output_port_orders"],
  });
  await service.setUserRoles(INTERNAL_CALLER, "sales_reader", ["user:alice_corp.com"]);
  await service.setUserRoles(INTERNAL_CALLER, "orders_reader", ["user:alice_corp.com"]);
}
