// The store contract's read-modify-writes, tokens and readers through Redis Sentinel (the rest:
// store-contract-sentinel.test.ts).
import { storeContract } from '../contract/store-contract.js';
import { redisBackend, useSentinelRedis } from './store-contract-redis.js';

useSentinelRedis();
storeContract(redisBackend, ['updates', 'tokens', 'readers']);
