/** A role: one output port's access, bound to one component and to the GraphQL root fields it may read. */
export interface Role {
  readonly roleId: string;
  readonly componentId: string;
  readonly rootFields: readonly string[];
}

/** A subject holding a role: `user:<name>` or `group:<name>`. */
export interface Grant {
  readonly subject: string;
  readonly roleId: string;
}

/** The users and groups holding one role. */
export interface RoleGrants {
  readonly roleId: string;
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

/**
 * A granted group name bound to the directory object id it had when granted: `group` is the subject
 * (`group:<name>`), `objectId` the Entra object id. Names are not unique in Entra; ids are.
 */
export interface GroupPin {
  readonly group: string;
  readonly objectId: string;
}

/** Everything the decision needs, as loaded from a store. */
export interface MappingData {
  readonly roles: readonly Role[];
  readonly userGrants: readonly Grant[];
  readonly groupGrants: readonly Grant[];
  /** Group pins, when group names are pinned. */
  readonly groupPins?: readonly GroupPin[];
}

/** Bounds every identifier of the data model shares (varchar(255) columns). */
export const MAX_ID_LENGTH = 255;
