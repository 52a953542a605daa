// The store contract's lineages, leases and tokens on the filesystem backend (the rest: store-contract-fs-2.test.ts).
import { storeContract } from '../contract/store-contract.js';
import { fsBackend, useContractRoot } from './store-contract-fs.js';

useContractRoot();
storeContract(fsBackend, ['lineages', 'leases', 'tokens']);
