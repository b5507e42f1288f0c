import { addSum, rowHash, subtractSum } from "./checksum.js";
import type { Role } from "./mapping.js";

/**
 * The checksum of a snapshot kept per role (src/core/checksum.ts): each role's rows summed apart, so that the
 * roles the store left out of its checksum (changed since) can be left out here too, in time proportional to
 * their number.
 */
export class RoleSums {
  private readonly byRole = new Map<string, number>();
  private total = 0;

  /** Adds a role's own row and its root fields. */
  addRole(role: Role): void {
    this.add(role.roleId, rowHash("r", role.roleId, role.componentId));
    for (const field of role.rootFields) this.add(role.roleId, rowHash("f", role.roleId, field));
  }

  /** Removes what addRole added. */
  removeRole(role: Role): void {
    this.subtract(role.roleId, rowHash("r", role.roleId, role.componentId));
    for (const field of role.rootFields) this.subtract(role.roleId, rowHash("f", role.roleId, field));
  }

  /** Adds a subject holding the role. */
  addGrant(roleId: string, subject: string): void {
    this.add(roleId, rowHash("s", roleId, subject));
  }

  /** Removes what addGrant added. */
  removeGrant(roleId: string, subject: string): void {
    this.subtract(roleId, rowHash("s", roleId, subject));
  }

  /** Forgets every row of a role. */
  dropRole(roleId: string): void {
    this.total = subtractSum(this.total, this.byRole.get(roleId) ?? 0);
    this.byRole.delete(roleId);
  }

  /** The checksum of every role but those in `except`. */
  checksumExcept(except: Iterable<string>): string {
    let sum = this.total;
    for (const roleId of new Set(except)) sum = subtractSum(sum, this.byRole.get(roleId) ?? 0);
    return String(sum);
  }

  private add(roleId: string, hash: number): void {
    this.byRole.set(roleId, addSum(this.byRole.get(roleId) ?? 0, hash));
    this.total = addSum(this.total, hash);
  }

  private subtract(roleId: string, hash: number): void {
    this.byRole.set(roleId, subtractSum(this.byRole.get(roleId) ?? 0, hash));
    this.total = subtractSum(this.total, hash);
  }
}
