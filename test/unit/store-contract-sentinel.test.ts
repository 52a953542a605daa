// The store contract's lineages and leases through Redis Sentinel (redis+sentinel://, test/harness/sentinel.ts):
// Lua scripts and leases work through node-redis's Sentinel client as on one server (store-contract-redis*.test.ts).
// The rest: store-contract-sentinel-2.test.ts; failover: store-sentinel.test.ts.
import { storeContract } from '../contract/store-contract.js';
import { redisBackend, useSentinelRedis } from './store-contract-redis.js';

useSentinelRedis();
storeContract(redisBackend, ['lineages', 'leases']);
