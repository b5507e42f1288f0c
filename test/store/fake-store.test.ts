import { FakeStore } from "../support/fake-store.js";
import { describeStoreContract, type StoreUnderTest } from "./store-contract.js";

// The in-memory store that the core and end-to-end tests run on keeps the contract of the real stores.
describeStoreContract<StoreUnderTest & { readonly store: FakeStore }>(
  "FakeStore",
  async () => {
    const store = new FakeStore();
    // Through the port, a store's writes are its client's own (the real stores tell them apart by client id).
    store.ownWrites = true;
    return { store, close: () => store.close() };
  },
  {
    grantDirectly: async ({ store }, subject, roleId) => store.grantOutside({ subject, roleId }),
    pruneJournal: async ({ store }) => store.pruneJournal(),
    truncateGroupGrants: async ({ store }) => store.truncateGrants(),
  },
);
