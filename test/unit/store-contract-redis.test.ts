// The store contract's lineages, leases and tokens on the Redis backend (the rest: store-contract-redis-2.test.ts).
import { storeContract } from '../contract/store-contract.js';
import { redisBackend, useRedisServer } from './store-contract-redis.js';

useRedisServer();
storeContract(redisBackend, ['lineages', 'leases', 'tokens']);
