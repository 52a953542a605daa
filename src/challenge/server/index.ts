export { ChallengeServer, type AccessEntry, type ChallengeServerOptions, type Fallback, type ListeningAddress, type ServerStats } from './server.js';
export { hostName, normalizePath, parseRequestTarget, type RequestTarget } from './path.js';
export { dropPrivileges, lookupUser, type Identity } from './privileges.js';
