// The store contract's read-modify-writes and readers on the Redis backend (the rest: store-contract-redis.test.ts).
import { storeContract } from '../contract/store-contract.js';
import { redisBackend, useRedisServer } from './store-contract-redis.js';

useRedisServer();
storeContract(redisBackend, ['updates', 'readers']);
